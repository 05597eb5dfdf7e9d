import { kindOf } from "@cqi/errors";
import { RequestSlot } from "@cqi/http";
import type { MetricsRegistry } from "./registry.ts";

/**
 * The error kind recovered for the current request, so that `httpMetrics`
 * (outside `recovery`) can label its counter with it. A request slot rather
 * than a map keyed by the Request: middleware between the two may pass a new
 * Request on. Internal.
 */
export const recoveredKind: RequestSlot<string> = new RequestSlot(
  "metrics.recovered",
);

/**
 * Options for {@linkcode recoveryMetrics}.
 *
 * @example Usage
 * ```ts
 * import { createRegistry, type RecoveryMetricsOptions } from "@cqi/metrics";
 *
 * const options: RecoveryMetricsOptions = {
 *   registry: createRegistry({ namespace: "shop", defaultMetrics: false }),
 * };
 * ```
 */
export interface RecoveryMetricsOptions {
  /** Where `{ns}_http_recovered_errors_total` is registered. */
  registry: MetricsRegistry;
}

/**
 * Returns a hook for `recovery({ onError })` of `@cqi/errors` that counts
 * recovered errors by kind in `{ns}_http_recovered_errors_total`
 * (label `error_type`: the error's kind, `permanent` for errors without
 * one). When `httpMetrics` runs outside that `recovery` and `recovery`
 * gets the request `httpMetrics` passed on, the request's
 * `{ns}_http_request_count_total` sample carries the kind too.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware } from "@cqi/http";
 * import { notFound, recovery } from "@cqi/errors";
 * import { createRegistry, httpMetrics, recoveryMetrics } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop", defaultMetrics: false });
 * const countError = recoveryMetrics({ registry });
 * const handler = applyMiddleware(
 *   () => {
 *     throw notFound("order", 7);
 *   },
 *   httpMetrics({ registry }),
 *   recovery({
 *     onError: (recovered) => {
 *       countError(recovered);
 *       // ...and log it
 *     },
 *   }),
 * );
 * await handler(new Request("http://localhost/orders/7"));
 * const text = await registry.metrics();
 * console.log(text.includes('error_type="not_found"')); // true
 * ```
 *
 * @param options The registry.
 * @returns The hook (it takes a `RecoveredError` of `@cqi/errors`).
 */
export function recoveryMetrics(
  options: RecoveryMetricsOptions,
): (recovered: { error: unknown; request: Request; status: number }) => void {
  const registry = options?.registry;
  if (typeof registry?.counter !== "function") {
    throw new TypeError("recoveryMetrics: registry is required");
  }
  const recovered = registry.counter({
    name: "http_recovered_errors_total",
    help: "Errors recovered into an error response, by kind.",
    labelNames: ["error_type"],
  });
  return ({ error }) => {
    const kind = kindOf(error) ?? "permanent";
    recovered.inc({ error_type: kind });
    recoveredKind.set(kind);
  };
}
