import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { callName, observe } from "./call.ts";
import { toConnectError } from "./wire_error.ts";

/**
 * What {@linkcode grpcRecovery} tells its `onError` hook about a failure.
 *
 * @example Usage
 * ```ts
 * import type { RecoveredCall } from "@cqi/grpc";
 *
 * const log = ({ service, method, code, error }: RecoveredCall) =>
 *   console.error(`${service}/${method}`, code, error);
 * ```
 */
export interface RecoveredCall {
  /** What was thrown, with its whole cause chain. */
  error: unknown;
  /** The fully qualified service, such as `cqc.test.v1.EchoService`. */
  service: string;
  /** The method, such as `Echo`. */
  method: string;
  /** The gRPC code the client was answered with. */
  code: number;
}

/**
 * Options for {@linkcode grpcRecovery}.
 *
 * @example Usage
 * ```ts
 * import type { GrpcRecoveryOptions } from "@cqi/grpc";
 *
 * const options: GrpcRecoveryOptions = {
 *   onError: ({ error }) => console.error(error),
 * };
 * ```
 */
export interface GrpcRecoveryOptions {
  /**
   * Receives every recovered failure (logging, metrics and tracing attach
   * here): one hook or several, called in order. A hook that throws is
   * ignored; the client still gets the mapped error.
   */
  onError?:
    | ((recovered: RecoveredCall) => void)
    | ReadonlyArray<(recovered: RecoveredCall) => void>;
}

/**
 * Server interceptor that turns anything thrown or rejected further in —
 * before the response or in the middle of a response stream — into the
 * `ConnectError` the client may see: a CQI error's kind becomes its gRPC
 * code (`notFound` → NOT_FOUND, ...) with the error's public message and
 * the CQI code in the `cqi-error-code` metadata; any other value (an
 * `Error`, a string, a Proxy) becomes INTERNAL `internal error`, so no
 * internal message, stack or cause leaves the server. A `ConnectError` the
 * handler throws keeps its code and message, except that UNKNOWN, INTERNAL
 * and DATA_LOSS lose their message and an out-of-range code becomes
 * INTERNAL; its metadata is never sent. An abort after the call's signal
 * aborted is DEADLINE_EXCEEDED (the deadline) or CANCELLED (the client
 * went away).
 *
 * @example Usage
 * ```ts
 * import { createRouterTransport, createClient } from "@connectrpc/connect";
 * import { notFound } from "@cqi/errors";
 * import { grpcRecovery } from "@cqi/grpc";
 * import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
 *
 * const transport = createRouterTransport((router) =>
 *   router.service(EchoService, {
 *     echo() {
 *       throw notFound("echo", 1);
 *     },
 *     async *count() {},
 *   }), { router: { interceptors: [grpcRecovery()] } });
 * const client = createClient(EchoService, transport);
 * await client.echo({ text: "hi" }).catch((e) => console.log(e.code)); // 5
 * ```
 *
 * @param options The `onError` hook.
 * @returns The interceptor.
 */
export function grpcRecovery(options: GrpcRecoveryOptions = {}): Interceptor {
  const hooks = options.onError === undefined
    ? []
    : typeof options.onError === "function"
    ? [options.onError]
    : [...options.onError];
  for (const hook of hooks) {
    if (typeof hook !== "function") {
      throw new TypeError(
        "grpcRecovery: onError must be a function or an array of functions",
      );
    }
  }
  return (next) => (req) => {
    const recover = async (error: unknown): Promise<ConnectError> => {
      let mapped: ConnectError;
      try {
        mapped = await toConnectError(error, req.signal);
      } catch {
        // a thrown value that throws when looked at
        mapped = new ConnectError("internal error", Code.Internal);
      }
      const { service, method } = callName(req);
      for (const hook of hooks) {
        try {
          hook({ error, service, method, code: mapped.code });
        } catch {
          // a failing hook must not change what the client gets
        }
      }
      return mapped;
    };
    // A stream's failure is mapped where it is pulled.
    return observe(req, next, () => {}, recover);
  };
}
