import { rateLimited } from "@cqi/errors";
import { raceSignal } from "./abort.ts";
import { type Clock, systemClock } from "./clock.ts";

/**
 * Options for {@linkcode createRateLimiter}.
 *
 * @example Usage
 * ```ts
 * import type { RateLimiterOptions } from "@cqi/retry";
 *
 * const options: RateLimiterOptions = { rate: 50, burst: 10 };
 * ```
 */
export interface RateLimiterOptions {
  /** Tokens added per second: the sustained rate of calls. Required, > 0. */
  rate: number;
  /**
   * The bucket's size: calls allowed at once after a quiet spell. Default
   * `max(1, floor(rate))`, one second's worth.
   */
  burst?: number;
  /**
   * Longest wait `acquire` accepts, in milliseconds; a call that would wait
   * longer is refused at once with a `rate_limited` error. Default: no limit
   * (the caller's `signal` bounds the wait).
   */
  maxWait?: number;
  /** The time source; tests pass a fake one. Default: the system clock. */
  clock?: Clock;
}

/**
 * A token bucket made by {@linkcode createRateLimiter}.
 *
 * @example Usage
 * ```ts
 * import { createRateLimiter } from "@cqi/retry";
 *
 * const limiter = createRateLimiter({ rate: 1, burst: 2 });
 * console.log(limiter.tryAcquire(), limiter.tryAcquire(), limiter.tryAcquire());
 * // true true false
 * ```
 */
export interface RateLimiter {
  /** Takes a token if one is there now; `false` means over the rate. */
  tryAcquire(): boolean;
  /**
   * Takes a token, waiting for it if need be. Callers are served in the
   * order they called. Rejects with a `rate_limited` `CqiError` (its
   * `retryAfter` the wait) when the wait would exceed `maxWait`, and with
   * `signal.reason` when `signal` aborts (taking no token: a token is taken
   * only when granted).
   *
   * @param signal Stops the wait.
   */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Tokens available now (fractional; negative while callers wait). */
  readonly available: number;
}

/**
 * Creates a {@linkcode RateLimiter}: a token bucket holding up to `burst`
 * tokens, refilled at `rate` per second. Each call takes one token; callers
 * of `acquire` queue in order, the first sleeping until its token is there,
 * so waiting callers never exceed the rate either (nor does one that leaves
 * the queue make room for a burst). A timer that wakes late grants at once
 * the waiters whose tokens fell due meanwhile (late, never early), so the
 * rate holds with a small burst too.
 *
 * @example Pace calls to a partner API
 * ```ts
 * import { createRateLimiter } from "@cqi/retry";
 *
 * const limiter = createRateLimiter({ rate: 100, burst: 1 });
 * const started = Date.now();
 * for (let i = 0; i < 3; i++) await limiter.acquire();
 * console.log(Date.now() - started >= 15); // true: 2 waits of 10 ms
 * ```
 *
 * @param options The rate, the burst, the longest wait and the clock.
 * @returns The limiter, full.
 * @throws {RangeError} When an option is out of range.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const rate = options?.rate;
  if (!(rate > 0 && rate < Infinity)) {
    throw new RangeError(
      `createRateLimiter: rate must be a finite number of tokens per second > 0, got ${rate}`,
    );
  }
  const burst = options.burst ?? Math.max(1, Math.floor(rate));
  if (!(Number.isInteger(burst) && burst >= 1)) {
    throw new RangeError(
      `createRateLimiter: burst must be an integer >= 1, got ${burst}`,
    );
  }
  const maxWait = options.maxWait ?? Infinity;
  if (!(maxWait >= 0)) {
    throw new RangeError(
      `createRateLimiter: maxWait must be milliseconds >= 0, got ${maxWait}`,
    );
  }
  const clock = options.clock ?? systemClock;
  const perMs = rate / 1_000;
  let tokens = burst;
  let updated = clock.now();
  // Callers waiting, in order; the first sleeps until its token is there,
  // the others until they are first. A token is taken only when granted, so
  // a caller that leaves takes nothing and the bucket never exceeds its rate.
  const queue: { turn: () => void }[] = [];
  const refill = () => {
    const now = clock.now();
    // A clock that went backwards adds nothing and is taken as the new
    // origin: a step back costs at most one refill interval. While callers
    // wait, the whole tokens that fell due beyond the burst as a timer woke
    // late are theirs (up to one each), so waiters keep up the rate: each is
    // granted late, never before its token was due.
    if (now > updated) {
      const accrued = tokens + (now - updated) * perMs;
      const extra = Math.min(Math.floor(accrued - burst), queue.length - 1);
      tokens = Math.min(accrued, burst + Math.max(0, extra));
    }
    updated = now;
    return tokens;
  };
  // The epsilon absorbs float rounding in the refill.
  const EPSILON = 1e-9;
  return {
    tryAcquire() {
      if (queue.length > 0 || refill() < 1 - EPSILON) return false;
      tokens--;
      return true;
    },
    async acquire(signal?: AbortSignal) {
      signal?.throwIfAborted();
      if (queue.length === 0 && refill() >= 1 - EPSILON) {
        tokens--;
        return;
      }
      // The wait if the callers ahead take their tokens at the rate.
      const wait = Math.ceil((queue.length + 1 - refill()) / perMs);
      if (wait > maxWait) {
        throw rateLimited(
          `rate limit of ${rate}/s: the wait of ${wait} ms exceeds maxWait`,
          { retryAfter: wait },
        );
      }
      const turn = Promise.withResolvers<void>();
      const me = { turn: turn.resolve };
      queue.push(me);
      try {
        if (queue[0] !== me) await raceSignal(turn.promise, signal);
        for (;;) {
          const missing = 1 - refill();
          if (missing <= EPSILON) break;
          await clock.sleep(Math.ceil(missing / perMs), signal);
        }
        tokens--;
      } finally {
        const at = queue.indexOf(me);
        queue.splice(at, 1);
        if (at === 0) queue[0]?.turn();
      }
    },
    get available() {
      return refill() - queue.length;
    },
  };
}
