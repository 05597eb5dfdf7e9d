import { kindOf } from "@cqi/errors";
import { capField, capRoute, MAX_VALUE_LENGTH } from "./cap.ts";
import type { Fields, Logger } from "./logger.ts";
import { logger } from "./scope.ts";

/**
 * Options for {@linkcode logRecovered}.
 *
 * @example Usage
 * ```ts
 * import { createLogger, type LogRecoveredOptions } from "@cqi/logging";
 *
 * const options: LogRecoveredOptions = { logger: createLogger() };
 * ```
 */
export interface LogRecoveredOptions {
  /**
   * The logger to write with. Default: {@linkcode logger} at the time of the
   * error — inside `accessLog`, the request's logger, so the line carries the
   * request id.
   */
  logger?: Logger;
}

/**
 * An `onError` hook for `recovery` of `@cqi/errors` that logs what it
 * caught: each recovered error with its whole cause chain — which the client
 * never
 * sees — as `request error` at `error` for a 5xx answer and `warn` for a
 * 4xx, with `method`, `route` and `status`. A `canceled` error (the client
 * went away, say mid-body; answered 499) is no fault of the service and any
 * client can cause it, so it is an `info` line `request canceled` with the
 * same fields and no error or stack. What the client chose is bounded as in
 * `accessLog`: a path (the `route` where no route pattern was recorded)
 * over 2048 characters, or a method over 512, is cut to that length, ending
 * in `…`, and the line gets `route_length` (or `method_length`) with the
 * original length.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware } from "@cqi/http";
 * import { recovery, temporary } from "@cqi/errors";
 * import { createLogger, logRecovered, memorySink } from "@cqi/logging";
 *
 * const sink = memorySink();
 * const handler = applyMiddleware(() => {
 *   throw temporary("prices unavailable", { cause: new Error("ECONNREFUSED") });
 * }, recovery({ onError: logRecovered({ logger: createLogger({ output: sink }) }) }));
 * const res = await handler(new Request("http://localhost/prices"));
 * console.log(res.status, sink.records[0].level); // 503 "error"
 * ```
 *
 * @param options The logger to write with.
 * @returns The hook (it takes a `RecoveredError` of `@cqi/errors`).
 */
export function logRecovered(
  options: LogRecoveredOptions = {},
): (recovered: { error: unknown; request: Request; status: number }) => void {
  const log = options.logger;
  if (log !== undefined && typeof log?.error !== "function") {
    throw new TypeError("logRecovered: logger must be a Logger");
  }
  return ({ error, request, status }) => {
    const target = log ?? logger();
    // What the client chose is cut as accessLog cuts it.
    const fields: Fields = {};
    capField(fields, "method", request.method, MAX_VALUE_LENGTH);
    capRoute(fields, request.url);
    fields.status = status;
    if (kindOf(error) === "canceled") {
      target.info("request canceled", fields);
      return;
    }
    fields.error = error;
    if (status >= 500) target.error("request error", fields);
    else target.warn("request error", fields);
  };
}
