/**
 * Structured JSON logging for CQI services, on Deno and Bun: one JSON object
 * per line with `timestamp`, `level`, `message`, `service_name`, the active
 * OpenTelemetry span's `trace_id` and `span_id`, and errors with their whole
 * cause chain; child loggers, redaction, buffered non-blocking output, an
 * access-log middleware, a request-scoped {@linkcode logger} and a hook for
 * `recovery`. Several times pino's throughput (see the README).
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware, router, serve } from "@cqi/http";
 * import { notFound, recovery } from "@cqi/errors";
 * import {
 *   accessLog,
 *   createLogger,
 *   logger,
 *   logRecovered,
 *   setDefaultLogger,
 * } from "@cqi/logging";
 *
 * const log = createLogger({ service: { name: "orders" }, level: "info" });
 * setDefaultLogger(log);
 * const app = router({
 *   "GET /orders/:id": (_req, { id }) => {
 *     logger().info("looking up order", { order_id: id });
 *     throw notFound("order", id);
 *   },
 * });
 * const handler = applyMiddleware(
 *   app,
 *   accessLog(),
 *   recovery({ onError: logRecovered() }),
 * );
 * await using server = serve(handler, {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/orders/7`);
 * console.log(res.status); // 404, and three lines on stdout
 * await res.body?.cancel();
 * await log.flush();
 * ```
 *
 * @module
 */
export {
  createLogger,
  type Fields,
  type Logger,
  type LoggerOptions,
} from "./logger.ts";
export type { LogLevel } from "./levels.ts";
export { LogField } from "./fields.ts";
export { DEFAULT_REDACT } from "./serialize.ts";
export { type MemorySink, memorySink, type Sink } from "./sink.ts";
export { logger, setDefaultLogger } from "./scope.ts";
export { accessLog, type AccessLogOptions } from "./access_log.ts";
export { logRecovered, type LogRecoveredOptions } from "./recovered.ts";
