import type { Interceptor } from "@connectrpc/connect";
import type { Middleware } from "@cqi/http";
import { type Logger, logger as requestLogger } from "@cqi/logging";
import type { MetricsRegistry } from "@cqi/metrics";
import { traceErrors } from "@cqi/tracing";
import { grpcAccessLog } from "./access_log.ts";
import { grpcAuth } from "./auth.ts";
import { codeName } from "./call.ts";
import { grpcCallMetrics } from "./metrics.ts";
import { grpcRecovery, type RecoveredCall } from "./recovery.ts";
import { grpcTracing } from "./tracing.ts";

/**
 * Options for {@linkcode grpcStack}.
 *
 * @example Usage
 * ```ts
 * import { createLogger } from "@cqi/logging";
 * import type { GrpcStackOptions } from "@cqi/grpc";
 *
 * const options: GrpcStackOptions = { logger: createLogger() };
 * ```
 */
export interface GrpcStackOptions {
  /** Where access lines and recovered internal errors go. */
  logger: Logger;
  /** Where the gRPC call metrics go. None: no metrics. */
  registry?: MetricsRegistry;
  /**
   * `false` leaves `grpcTracing` out (no spans, no trace context carried
   * to the handler). Default `true`; without `createTracing` it only
   * carries the caller's context.
   */
  tracing?: boolean;
  /**
   * Authentication for every call, innermost: an auth middleware of
   * `@cqi/auth` (`apiKey`, `jwt`, `anyOf`), adapted by `grpcAuth`.
   */
  auth?: Middleware;
}

// Codes that are the server's fault: logged with their cause chain.
const INTERNAL = new Set(["UNKNOWN", "INTERNAL", "DATA_LOSS"]);

/**
 * The canonical gRPC interceptor stack, outermost first, as `httpStack` of
 * `@cqi/service` is for HTTP: `grpcTracing`, `grpcAccessLog`,
 * `grpcCallMetrics` (with a registry), `grpcRecovery` (so the log and the
 * metrics see the mapped code) and `grpcAuth` when given. A recovered
 * internal failure (INTERNAL, UNKNOWN, DATA_LOSS) is recorded on the span
 * and logged as `rpc error` with its cause chain; the client sees only
 * `internal error`. Pass it as `interceptors` to `connectHandler` or
 * `connectNodeAdapter`.
 *
 * @example Usage
 * ```ts
 * import { createLogger, memorySink } from "@cqi/logging";
 * import { connectHandler, grpcStack } from "@cqi/grpc";
 * import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
 *
 * const sink = memorySink();
 * const logger = createLogger({ output: sink });
 * const handler = connectHandler((router) =>
 *   router.service(EchoService, {
 *     echo: (req) => ({ text: req.text }),
 *     async *count() {},
 *   }), { interceptors: grpcStack({ logger }) });
 * const res = await handler(
 *   new Request("http://localhost/cqc.test.v1.EchoService/Echo", {
 *     method: "POST",
 *     headers: { "content-type": "application/json" },
 *     body: JSON.stringify({ text: "hi" }),
 *   }),
 * );
 * console.log(await res.json()); // { text: "hi" }
 * await logger.flush();
 * console.log(sink.records[0].grpc_code); // "OK"
 * ```
 *
 * @param options The logger, registry, tracing switch and auth.
 * @returns The interceptors, outermost first.
 * @throws {TypeError} When the logger is missing.
 */
export function grpcStack(options: GrpcStackOptions): Interceptor[] {
  const { logger, registry, auth, tracing = true } = options ??
    {} as GrpcStackOptions;
  if (typeof logger?.info !== "function") {
    throw new TypeError("grpcStack: logger is required");
  }
  const traceError = traceErrors();
  const onError = (recovered: RecoveredCall): void => {
    const code = codeName(recovered.code);
    if (!INTERNAL.has(code)) return;
    traceError({ error: recovered.error, status: 500 });
    requestLogger().error("rpc error", {
      rpc_service: recovered.service,
      rpc_method: recovered.method,
      grpc_code: code,
      error: recovered.error,
    });
  };
  return [
    ...(tracing ? [grpcTracing()] : []),
    grpcAccessLog({ logger }),
    ...(registry === undefined ? [] : [grpcCallMetrics({ registry })]),
    grpcRecovery({ onError }),
    ...(auth === undefined ? [] : [grpcAuth(auth)]),
  ];
}
