import type { CircuitState } from "@cqi/retry";

/**
 * One HTTP exchange (one attempt) as the {@linkcode HttpClientHooks} see
 * it: never a path, a query, a header or a body.
 *
 * @example Usage
 * ```ts
 * import type { RequestInfo } from "@cqi/httpclient";
 *
 * const info: RequestInfo = {
 *   host: "prices.internal:8080",
 *   method: "GET",
 *   status: 200,
 *   attempt: 1,
 *   duration: 12.5,
 * };
 * ```
 */
export interface RequestInfo {
  /** The server's `host:port` as in the URL (`host` alone for the default port). */
  host: string;
  /** The method, upper-case as sent. */
  method: string;
  /** The response's status; absent when none came (network error, timeout, abort, open breaker). */
  status?: number;
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: number;
  /** Milliseconds from the start of the attempt to the response's headers or the failure. */
  duration: number;
  /** Why the attempt failed, as a `CqiError` (for a status >= 400 too). */
  error?: unknown;
}

/**
 * Observation points of an HTTP client, so that it reports to logs and
 * metrics without importing them: `@cqi/service`'s `httpClientHooks()`
 * builds them; pass them as the `hooks` option of `createHttpClient`. A
 * hook that throws is ignored. Tracing needs no hook: the client makes a
 * client span per attempt through `@cqi/tracing`.
 *
 * @example Count answers by status
 * ```ts
 * import { createHttpClient, type HttpClientHooks } from "@cqi/httpclient";
 *
 * const statuses: Record<string, number> = {};
 * const hooks: HttpClientHooks = {
 *   onRequest: ({ status }) => {
 *     const key = String(status ?? "none");
 *     statuses[key] = (statuses[key] ?? 0) + 1;
 *   },
 * };
 * const client = createHttpClient({ hooks });
 * ```
 */
export interface HttpClientHooks {
  /** Called once per attempt, when its headers arrived or it failed. */
  onRequest?: (info: Readonly<RequestInfo>) => void;
  /** Called when the circuit breaker of a host changes state. */
  onBreakerStateChange?: (
    change: { host: string; from: CircuitState; to: CircuitState },
  ) => void;
}
