import { toBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
  createConnectRouter,
  createContextKey,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import {
  type UniversalHandler,
  universalServerRequestFromFetch,
  universalServerResponseToFetch,
} from "@connectrpc/connect/protocol";
import { errorResponse, notFound } from "@cqi/errors";
import type { Handler } from "@cqi/http";
import { filterResponse } from "./protocol_error.ts";

// The default `readMaxBytes`: 4 MiB a message, gRPC's own default.
const DEFAULT_READ_MAX_BYTES = 4 << 20;

// The longest deadline a timer can wait (2^31-1 ms, about 24.8 days).
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const UNIT_MS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 1e-3,
  n: 1e-6,
};

// A deadline longer than a timer can wait (which Node's timers, Deno's and
// Bun's, would cut to 1 ms) becomes the longest one that can: ~24.8 days.
function capTimeout(header: Headers): Headers {
  const connect = header.get("connect-timeout-ms");
  const grpc = /^(\d{1,8})([HMSmun])$/.exec(header.get("grpc-timeout") ?? "");
  const long = connect !== null && /^\d{1,10}$/.test(connect) &&
      Number(connect) > MAX_TIMEOUT_MS ||
    grpc !== null && Number(grpc[1]) * UNIT_MS[grpc[2]] > MAX_TIMEOUT_MS;
  if (!long) return header;
  const capped = new Headers(header);
  if (connect !== null) capped.set("connect-timeout-ms", `${MAX_TIMEOUT_MS}`);
  if (grpc !== null) capped.set("grpc-timeout", "2147483S");
  return capped;
}

// Set when a call reaches the interceptors (Connect read its request).
const REACHED = createContextKey<{ reached: boolean }>({ reached: true });

const reach: Interceptor = (next) => (req) => {
  req.contextValues.get(REACHED).reached = true;
  return next(req);
};

// Innermost: an answer that cannot be serialized fails here, where the
// interceptors see it (recovery, access log, metrics), not later in
// Connect. Costs one more binary serialization of each message sent.
const serializable: Interceptor = (next) => async (req) => {
  const res = await next(req);
  const check = <T extends object>(message: T): T => {
    try {
      toBinary(req.method.output, message as never);
    } catch (cause) {
      throw new ConnectError(
        "response cannot be serialized",
        Code.Internal,
        undefined,
        undefined,
        cause,
      );
    }
    return message;
  };
  if (!res.stream) return { ...res, message: check(res.message) };
  const source = res.message;
  return {
    ...res,
    message: {
      [Symbol.asyncIterator]() {
        const it = source[Symbol.asyncIterator]();
        return {
          next: async () => {
            const step = await it.next();
            if (step.done !== true) check(step.value);
            return step;
          },
          return: (value?: unknown) =>
            it.return?.(value) ?? Promise.resolve({ done: true, value }),
          throw: (error?: unknown) =>
            it.throw?.(error) ?? Promise.reject(error),
        };
      },
    },
  };
};

/**
 * Options for {@linkcode connectHandler}: Connect's router options
 * (`interceptors`, `readMaxBytes`, `jsonOptions`, `connect`, `grpcWeb`,
 * ...), except `grpc`, which needs HTTP/2 trailers that a fetch `Response`
 * cannot carry (serve gRPC with `connectNodeAdapter` of
 * `@connectrpc/connect-node` on `node:http2`).
 *
 * @example Usage
 * ```ts
 * import { createLogger } from "@cqi/logging";
 * import { type ConnectHandlerOptions, grpcStack } from "@cqi/grpc";
 *
 * const options: ConnectHandlerOptions = {
 *   interceptors: grpcStack({ logger: createLogger() }),
 *   readMaxBytes: 1 << 20,
 * };
 * ```
 */
export interface ConnectHandlerOptions
  extends Omit<ConnectRouterOptions, "grpc"> {
  /**
   * Called for a call Connect refused before the interceptors ran (bad
   * JSON or envelope, 415, a bad timeout, an unknown compression, a
   * message over `readMaxBytes`), which therefore leaves no access line,
   * metric or span of `grpcStack`: log or count it here. A hook that
   * throws is ignored.
   */
  onRejected?: (rejected: RejectedCall) => void;
}

/**
 * A call {@linkcode connectHandler} refused before its interceptors ran.
 *
 * @example Usage
 * ```ts
 * import type { RejectedCall } from "@cqi/grpc";
 *
 * const onRejected = ({ service, method, code }: RejectedCall) =>
 *   console.warn("rejected", `${service}/${method}`, code);
 * ```
 */
export interface RejectedCall {
  /** The HTTP request. */
  request: Request;
  /** The fully qualified service, such as `cqc.test.v1.EchoService`. */
  service: string;
  /** The method, such as `Echo`. */
  method: string;
  /** The gRPC code the client was answered with. */
  code: number;
}

/**
 * Serves Connect services as a fetch handler — `(req) => Response`, for
 * `serve` of `@cqi/http` on `Deno.serve` or `Bun.serve`, with its graceful
 * shutdown — speaking the Connect protocol (unary and streaming, JSON and
 * binary) and gRPC-Web. Register the services in `routes` as for any
 * Connect router and pass `grpcStack(...)` as `interceptors`. A request
 * for no registered method answers 404 `{"error","code"}`; mount it beside
 * HTTP routes with a pattern per service, such as
 * `"POST /cqc.test.v1.EchoService/*"`.
 *
 * A request message is limited to `readMaxBytes`, 4 MiB unless set
 * (Connect's own default is 4 GiB); a deadline the client asks for
 * (`connect-timeout-ms`, `grpc-timeout`) longer than a timer can wait is
 * cut to 2^31-1 ms (about 24.8 days), not to 1 ms as the timer would
 * (Connect's `maxTimeoutMs` refuses longer ones with INVALID_ARGUMENT). The errors Connect answers
 * itself, outside the interceptors, are filtered as `grpcRecovery` filters
 * the handler's: INTERNAL, UNKNOWN and DATA_LOSS say `internal error`, an
 * out-of-range code is INTERNAL, and a request Connect could not read is
 * INVALID_ARGUMENT, not INTERNAL. A unary answer that cannot be
 * serialized fails inside the interceptors, as INTERNAL.
 *
 * @example Usage
 * ```ts
 * import { serve } from "@cqi/http";
 * import { connectHandler } from "@cqi/grpc";
 * import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
 *
 * const handler = connectHandler((router) =>
 *   router.service(EchoService, {
 *     echo: (req) => ({ text: req.text }),
 *     async *count() {},
 *   })
 * );
 * await using server = serve(handler, {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * const url = `http://127.0.0.1:${server.addr.port}/cqc.test.v1.EchoService/Echo`;
 * const res = await fetch(url, {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ text: "hi" }),
 * });
 * console.log(await res.json()); // { text: "hi" }
 * ```
 *
 * @param routes Registers the services on the router.
 * @param options Interceptors and Connect's router options.
 * @returns The fetch handler.
 */
export function connectHandler(
  routes: (router: ConnectRouter) => void,
  options: ConnectHandlerOptions = {},
): Handler {
  if (typeof routes !== "function") {
    throw new TypeError("connectHandler: routes must be a function");
  }
  const { onRejected, ...rest } = options;
  if (onRejected !== undefined && typeof onRejected !== "function") {
    throw new TypeError("connectHandler: onRejected must be a function");
  }
  const router = createConnectRouter({
    readMaxBytes: DEFAULT_READ_MAX_BYTES,
    ...rest,
    interceptors: [reach, ...options.interceptors ?? [], serializable],
    grpc: false,
  });
  routes(router);
  const byPath = new Map<string, UniversalHandler>(
    router.handlers.map((h) => [h.requestPath, h]),
  );
  return async (req) => {
    // Parsed without throwing: a request URL may be relative on Bun.
    const path = URL.parse(req.url)?.pathname ?? "";
    const handler = byPath.get(path);
    if (handler === undefined) return errorResponse(notFound("method"));
    const state = { reached: false };
    const ureq = universalServerRequestFromFetch(req, {});
    const res = await handler({
      ...ureq,
      header: capTimeout(ureq.header),
      contextValues: createContextValues().set(REACHED, state),
    });
    const rejected = (code: number) => {
      if (state.reached || onRejected === undefined) return;
      const [, service = "", method = ""] = path.split("/");
      try {
        onRejected({ request: req, service, method, code });
      } catch {
        // a failing hook must not change the answer
      }
    };
    return universalServerResponseToFetch(
      await filterResponse(res, state.reached, rejected),
    );
  };
}
