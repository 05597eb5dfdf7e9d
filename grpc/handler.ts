import {
  type ConnectRouter,
  type ConnectRouterOptions,
  createConnectRouter,
} from "@connectrpc/connect";
import {
  type UniversalHandler,
  universalServerRequestFromFetch,
  universalServerResponseToFetch,
} from "@connectrpc/connect/protocol";
import { errorResponse, notFound } from "@cqi/errors";
import type { Handler } from "@cqi/http";

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
export type ConnectHandlerOptions = Omit<ConnectRouterOptions, "grpc">;

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
  const router = createConnectRouter({ ...options, grpc: false });
  routes(router);
  const byPath = new Map<string, UniversalHandler>(
    router.handlers.map((h) => [h.requestPath, h]),
  );
  return async (req) => {
    // Parsed without throwing: a request URL may be relative on Bun.
    const path = URL.parse(req.url)?.pathname ?? "";
    const handler = byPath.get(path);
    if (handler === undefined) return errorResponse(notFound("method"));
    const res = await handler(universalServerRequestFromFetch(req, {}));
    return universalServerResponseToFetch(res);
  };
}
