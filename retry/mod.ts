/**
 * Retries with backoff and jitter, retry policies driven by error kinds, a
 * circuit breaker, timeouts and a retry budget. Observability goes through
 * hooks (`onRetry`, `onStateChange`), which `@cqi/service` wires to logs and
 * metrics; this module imports neither.
 *
 * - {@linkcode retry}: exponential backoff (100 ms doubling to 5 s, ±25%
 *   jitter, 10 attempts), `maxElapsed`, `retryAfter`, abort via `signal`.
 * - Backoff strategies as values: {@linkcode exponential},
 *   {@linkcode linear}, {@linkcode constant}, or any {@linkcode Backoff}
 *   function.
 * - Policies: {@linkcode retryTemporary} (default), {@linkcode retryAll},
 *   {@linkcode retryNone}, or a predicate.
 * - {@linkcode withTimeout}, {@linkcode createCircuitBreaker},
 *   {@linkcode createRetryBudget} and the token bucket
 *   {@linkcode createRateLimiter}.
 *
 * @example Usage
 * ```ts
 * import { temporary } from "@cqi/errors";
 * import { createCircuitBreaker, retry, withTimeout } from "@cqi/retry";
 *
 * const breaker = createCircuitBreaker({ name: "prices", failureThreshold: 5 });
 * let calls = 0;
 * const fetchPrice = (_signal: AbortSignal) => {
 *   if (++calls < 3) throw temporary("price feed unavailable");
 *   return Promise.resolve(101.5);
 * };
 *
 * const price = await retry(
 *   ({ signal }) =>
 *     breaker.execute(() => withTimeout(({ signal }) => fetchPrice(signal), 1_000, { signal })),
 *   {
 *     initialDelay: 10,
 *     maxElapsed: 5_000,
 *     onRetry: ({ attempt, delay }) => console.log(`attempt ${attempt} failed, next in ${delay} ms`),
 *   },
 * );
 * console.log(price, breaker.state); // 101.5 "closed"
 * ```
 *
 * @module
 */
export {
  type Backoff,
  constant,
  exponential,
  type ExponentialOptions,
  linear,
  type LinearOptions,
} from "./backoff.ts";
export {
  retryAll,
  retryNone,
  type RetryPolicy,
  retryTemporary,
} from "./policy.ts";
export { retry, type RetryContext, type RetryOptions } from "./retry.ts";
export { type TimeoutOptions, withTimeout } from "./timeout.ts";
export {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  createCircuitBreaker,
} from "./breaker.ts";
export {
  createRetryBudget,
  type RetryBudget,
  type RetryBudgetOptions,
} from "./budget.ts";
export {
  createRateLimiter,
  type RateLimiter,
  type RateLimiterOptions,
} from "./rate_limit.ts";
export { type Clock, systemClock } from "./clock.ts";
export { raceSignal } from "./abort.ts";
