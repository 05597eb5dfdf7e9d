import { CqiError } from "@cqi/errors";
import { raceSignal } from "./abort.ts";
import {
  type Backoff,
  exponential,
  type ExponentialOptions,
} from "./backoff.ts";
import type { RetryBudget } from "./budget.ts";
import { type Clock, systemClock } from "./clock.ts";
import { type RetryPolicy, retryTemporary } from "./policy.ts";

/**
 * What {@linkcode retry} passes to each attempt.
 *
 * @example Usage
 * ```ts
 * import { retry, type RetryContext } from "@cqi/retry";
 *
 * const load = ({ attempt, signal }: RetryContext) =>
 *   fetch(`https://example.com/?try=${attempt}`, { signal });
 * const call = () => retry(load, { maxAttempts: 3 });
 * ```
 */
export interface RetryContext {
  /** The attempt number: 1 for the first call, 2 for the first retry, ... */
  readonly attempt: number;
  /**
   * The caller's `signal` (one that never aborts when none was given); pass
   * it on so that aborting stops the work in flight, not just the retries.
   */
  readonly signal: AbortSignal;
}

/**
 * Options for {@linkcode retry}. The delay options shape the default
 * {@linkcode exponential} backoff; pass `backoff` instead for another
 * strategy.
 *
 * @example Usage
 * ```ts
 * import { linear, type RetryOptions, retryTemporary } from "@cqi/retry";
 *
 * const options: RetryOptions = {
 *   maxAttempts: 5,
 *   maxElapsed: 30_000,
 *   backoff: linear({ initialDelay: 500 }),
 *   retryIf: retryTemporary,
 *   onRetry: ({ attempt, error, delay }) =>
 *     console.warn(`attempt ${attempt} failed, retrying in ${delay} ms`, error),
 * };
 * ```
 */
export interface RetryOptions extends ExponentialOptions {
  /**
   * Attempts in all, the first included; at least 1, `Infinity` to retry
   * until `maxElapsed` or the signal stops it. Default 10.
   */
  maxAttempts?: number;
  /**
   * Milliseconds since the first attempt after which no retry starts: a retry
   * whose wait would end later is not made and the last error is thrown.
   * Default: no limit.
   */
  maxElapsed?: number;
  /**
   * The backoff strategy, instead of `initialDelay`, `maxDelay`, `multiplier`
   * and `jitter` (passing both is an error). Default: {@linkcode exponential}
   * with those options.
   */
  backoff?: Backoff;
  /** Which errors to retry. Default: {@linkcode retryTemporary}. */
  retryIf?: RetryPolicy;
  /**
   * Stops the wait and the retries at once; `retry` then rejects with
   * `signal.reason`. Also handed to each attempt.
   */
  signal?: AbortSignal;
  /**
   * Called before each wait with the attempt that failed, its error and the
   * milliseconds until the next attempt; for logging and a retry counter. An
   * error thrown here ends the retries with that error.
   */
  onRetry?: (event: { attempt: number; error: unknown; delay: number }) => void;
  /** A budget shared with other calls that caps the retries they make. */
  budget?: RetryBudget;
  /** The time source; tests pass a fake one. Default: the system clock. */
  clock?: Clock;
  /** Random numbers in `[0, 1)` for jitter. Default: `Math.random`. */
  random?: () => number;
}

const SHAPE = ["initialDelay", "maxDelay", "multiplier", "jitter"] as const;

/**
 * Calls `fn` until it succeeds, waiting between attempts as the backoff
 * says. A failure the policy does not retry, the last attempt's failure, or
 * one after which `maxElapsed` or the budget leaves no room for another
 * attempt, is thrown as is. A `CqiError` carrying `retryAfter` (a rate limit,
 * an open circuit breaker) is waited for at least that long. When `signal`
 * aborts, during a wait or during `fn`, `retry` rejects at once with
 * `signal.reason`.
 *
 * @example Usage
 * ```ts
 * import { temporary } from "@cqi/errors";
 * import { retry } from "@cqi/retry";
 *
 * let calls = 0;
 * const price = await retry(({ attempt }) => {
 *   calls++;
 *   if (attempt < 3) throw temporary("price feed unavailable");
 *   return 42;
 * }, { initialDelay: 10, maxDelay: 100 });
 * console.log(price, calls); // 42 3
 * ```
 *
 * @typeParam T What `fn` returns.
 * @param fn The operation; it receives the attempt number and the signal.
 * @param options Attempts, delays, policy, signal and hooks.
 * @returns What `fn` returned on the first success.
 * @throws {TypeError} When `fn` is not a function or options conflict.
 * @throws {RangeError} When a number option is out of range.
 */
export async function retry<T>(
  fn: (context: RetryContext) => T | Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  if (typeof fn !== "function") {
    throw new TypeError(`retry: fn must be a function, got ${typeof fn}`);
  }
  const maxAttempts = options.maxAttempts ?? 10;
  if (
    !(Number.isInteger(maxAttempts) || maxAttempts === Infinity) ||
    maxAttempts < 1
  ) {
    throw new RangeError(
      `retry: maxAttempts must be an integer >= 1 or Infinity, got ${maxAttempts}`,
    );
  }
  const maxElapsed = options.maxElapsed ?? Infinity;
  if (!(maxElapsed >= 0)) {
    throw new RangeError(
      `retry: maxElapsed must be milliseconds >= 0, got ${maxElapsed}`,
    );
  }
  const backoff = backoffOption(options);
  const retryIf = options.retryIf ?? retryTemporary;
  const { signal, onRetry, budget } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const context = { signal: signal ?? new AbortController().signal };

  signal?.throwIfAborted();
  const start = clock.now();
  budget?.deposit();
  for (let attempt = 1;; attempt++) {
    try {
      const result = (async () => await fn({ ...context, attempt }))();
      return await raceSignal(result, signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (attempt >= maxAttempts || !retryIf(error)) throw error;
      const delay = nextDelay(backoff, attempt - 1, random, error);
      if (clock.now() + delay - start > maxElapsed) throw error;
      if (budget !== undefined && !budget.tryWithdraw()) throw error;
      onRetry?.({ attempt, error, delay });
      await clock.sleep(delay, signal);
    }
  }
}

function backoffOption(options: RetryOptions): Backoff {
  if (options.backoff === undefined) return exponential(options);
  if (typeof options.backoff !== "function") {
    throw new TypeError("retry: backoff must be a function");
  }
  const clash = SHAPE.find((key) => options[key] !== undefined);
  if (clash !== undefined) {
    throw new TypeError(
      `retry: pass either backoff or ${clash}, not both (${clash} shapes the default backoff)`,
    );
  }
  return options.backoff;
}

function nextDelay(
  backoff: Backoff,
  retries: number,
  random: () => number,
  error: unknown,
): number {
  const delay = backoff(retries, random);
  if (!(delay >= 0)) {
    throw new RangeError(
      `retry: backoff returned ${delay}, expected milliseconds >= 0`,
    );
  }
  return Math.max(delay, retryAfterOf(error) ?? 0);
}

// The retryAfter of the first CqiError on the cause chain.
function retryAfterOf(error: unknown): number | undefined {
  let current = error;
  for (let depth = 0; depth < 16 && current instanceof Error; depth++) {
    if (current instanceof CqiError) return current.retryAfter;
    current = current.cause;
  }
}
