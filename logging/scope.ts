import { RequestSlot } from "@cqi/http";
import { createLogger, type Logger } from "./logger.ts";

// A slot, not a ContextKey: binding it starts no new async context per request.
// It holds a factory until the request first asks for its logger: most
// requests never do, and the access line needs no logger of its own.
const requestLogger = new RequestSlot<Logger | (() => Logger)>(
  "logging.logger",
);
let fallback: Logger | undefined;

/**
 * The logger of the current request, else the default one. The request's
 * logger is bound by `accessLog` to the
 * request id, writing the trace ids of the active span and the request's
 * extra log fields (such as the caller's identity once auth has run) — or,
 * outside a request, the default logger.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware } from "@cqi/http";
 * import { accessLog, createLogger, logger, memorySink } from "@cqi/logging";
 *
 * const sink = memorySink();
 * const handler = applyMiddleware(() => {
 *   logger().info("loading orders");
 *   return new Response("ok");
 * }, accessLog({ logger: createLogger({ output: sink }) }));
 * await handler(new Request("http://localhost/orders"));
 * console.log(sink.records[0].request_id === sink.records[1].request_id); // true
 * ```
 *
 * @returns The request's logger, else the default logger.
 */
export function logger(): Logger {
  const bound = requestLogger.get();
  if (typeof bound !== "function") return bound ?? defaultLogger();
  const made = bound();
  requestLogger.set(made);
  return made;
}

/**
 * Replaces the default logger: the one {@linkcode logger} returns outside a
 * request, and `accessLog` and `logRecovered` use when given none. Until
 * this is called it is `createLogger()` (JSON to stdout, service
 * `unknown_service`), made on first use.
 *
 * @example Usage
 * ```ts
 * import { createLogger, logger, memorySink, setDefaultLogger } from "@cqi/logging";
 *
 * const sink = memorySink();
 * setDefaultLogger(createLogger({ service: { name: "orders" }, output: sink }));
 * logger().info("started");
 * console.log(sink.records[0].service_name); // "orders"
 * ```
 *
 * @param log The new default logger.
 */
export function setDefaultLogger(log: Logger): void {
  fallback = log;
}

/** The default logger, created on first use. */
export function defaultLogger(): Logger {
  return fallback ??= createLogger();
}

/**
 * Binds the logger of the current request (needs a request scope); `logger()`
 * returns it for the rest of the request. Internal: `accessLog` calls it.
 */
export function bindLogger(log: Logger | (() => Logger)): void {
  requestLogger.set(log);
}
