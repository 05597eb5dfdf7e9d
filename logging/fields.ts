/**
 * The names of the fields CQI writes, so that code reading or querying logs
 * does not repeat string literals. The first seven are on every line (trace
 * and span ids when a span is active, `error` when one is logged); the rest
 * are the access-log fields written by `accessLog`.
 *
 * @example Usage
 * ```ts
 * import { LogField, memorySink, createLogger } from "@cqi/logging";
 *
 * const sink = memorySink();
 * const log = createLogger({ service: { name: "orders" }, output: sink });
 * log.info("ready");
 * console.log(sink.records[0][LogField.ServiceName]); // "orders"
 * ```
 */
export const LogField = {
  /** When the line was written: RFC 3339 UTC with milliseconds. */
  Timestamp: "timestamp",
  /** `trace`, `debug`, `info`, `warn`, `error` or `fatal`. */
  Level: "level",
  /** The message passed to the call. */
  Message: "message",
  /** The `service` option of the logger. */
  ServiceName: "service_name",
  /** The active OpenTelemetry span's trace id (32 hex digits). */
  TraceId: "trace_id",
  /** The active OpenTelemetry span's span id (16 hex digits). */
  SpanId: "span_id",
  /** An error: `{ type, message, code?, stack, cause: [...] }`. */
  Error: "error",
  /** The request id (`x-request-id`), on every line of a request logger. */
  RequestId: "request_id",
  /** The HTTP method. */
  Method: "method",
  /** The route pattern, such as `/users/:id`, else the path. */
  Route: "route",
  /** The response status. */
  Status: "status",
  /** Milliseconds from the request reaching the access log to its response. */
  DurationMs: "duration_ms",
  /** Request body bytes, from `content-length`, when known. */
  RequestBytes: "request_bytes",
  /** Response body bytes, from `content-length`, when known. */
  ResponseBytes: "response_bytes",
  /** The `user-agent` header. */
  UserAgent: "user_agent",
  /** The client address, when the runtime offers it. */
  RemoteAddr: "remote_addr",
} as const;

/** Field names a caller's fields may not reuse: they are written `_name`. */
export const RESERVED: ReadonlySet<string> = new Set([
  LogField.Timestamp,
  LogField.Level,
  LogField.Message,
  LogField.ServiceName,
  LogField.TraceId,
  LogField.SpanId,
]);
