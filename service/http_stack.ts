import { type RecoveredError, recovery } from "@cqi/errors";
import { compose, type Middleware } from "@cqi/http";
import { accessLog, type Logger, logRecovered } from "@cqi/logging";
import {
  httpMetrics,
  type MetricsRegistry,
  recoveryMetrics,
} from "@cqi/metrics";
import {
  httpTracing,
  type HttpTracingOptions,
  traceErrors,
} from "@cqi/tracing";

/**
 * Options for {@linkcode httpStack}.
 *
 * @example Usage
 * ```ts
 * import { createLogger } from "@cqi/logging";
 * import type { HttpStackOptions } from "@cqi/service";
 *
 * const options: HttpStackOptions = { logger: createLogger() };
 * ```
 */
export interface HttpStackOptions {
  /** Where access lines and recovered 5xx errors go. */
  logger: Logger;
  /** Where the HTTP and recovered-error metrics go. None: no metrics. */
  registry?: MetricsRegistry;
  /** Options of `httpTracing`, such as `returnTraceparent`. */
  tracing?: HttpTracingOptions;
  /**
   * Authentication for every request, innermost. Prefer attaching auth to
   * the routes it guards (`group` of `@cqi/http`): refused requests then
   * keep their route label.
   */
  auth?: Middleware;
}

/**
 * The canonical HTTP stack as one middleware, outermost first:
 * `httpTracing` (every log line carries the trace), `accessLog`,
 * `httpMetrics` (with a registry), `recovery` (so the log and the metrics
 * see the mapped status) and `auth` when given. A recovered error is
 * counted (`{ns}_http_recovered_errors_total`), recorded on the span when
 * it became a 5xx, and logged with its cause chain when it became a 5xx
 * (4xx answers are in the access log already). `bootstrap()`'s `httpStack`
 * builds it from the service's logger and registry.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware } from "@cqi/http";
 * import { createLogger, memorySink } from "@cqi/logging";
 * import { httpStack } from "@cqi/service";
 *
 * const sink = memorySink();
 * const logger = createLogger({ output: sink });
 * const handler = applyMiddleware(
 *   () => Response.json({ ok: true }),
 *   httpStack({ logger }),
 * );
 * await handler(new Request("http://localhost/"));
 * await logger.flush();
 * console.log(sink.records[0].message); // "request completed"
 * ```
 *
 * @param options The logger, registry, tracing options and auth.
 * @returns The stack as one middleware.
 */
export function httpStack(options: HttpStackOptions): Middleware {
  const { logger, registry, auth } = options ?? {} as HttpStackOptions;
  if (typeof logger?.info !== "function") {
    throw new TypeError("httpStack: logger is required");
  }
  // the logger in scope at the time: the request's, with its request id
  const logError = logRecovered();
  const onError: ((recovered: RecoveredError) => void)[] = [
    traceErrors(),
    (recovered) => {
      if (recovered.status >= 500) logError(recovered);
    },
  ];
  if (registry !== undefined) onError.unshift(recoveryMetrics({ registry }));
  return compose(
    httpTracing(options.tracing),
    accessLog({ logger }),
    ...(registry === undefined ? [] : [httpMetrics({ registry })]),
    recovery({ onError }),
    ...(auth === undefined ? [] : [auth]),
  );
}
