/**
 * Time as seen by {@linkcode retry}, {@linkcode timeout},
 * {@linkcode circuitBreaker} and {@linkcode retryBudget}. The default is the
 * system clock; tests pass a fake one so that a five-second backoff takes no
 * time at all.
 *
 * @example A clock that never waits
 * ```ts
 * import { type Clock, retry, retryAll } from "@cqi/retry";
 *
 * let now = 0;
 * const instant: Clock = {
 *   now: () => now,
 *   sleep: (ms) => {
 *     now += ms;
 *     return Promise.resolve();
 *   },
 * };
 * let calls = 0;
 * await retry(() => {
 *   if (++calls < 3) throw new Error("flaky");
 * }, { retryIf: retryAll, clock: instant, jitter: 0 });
 * console.log(now); // 300 (100 + 200)
 * ```
 */
export interface Clock {
  /** The current time in milliseconds (any fixed origin). */
  now(): number;
  /**
   * Resolves after `ms` milliseconds; rejects with `signal.reason` as soon as
   * `signal` aborts (at once if it already has).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

// setTimeout fires at once for delays above this (a signed 32-bit int).
const MAX_TIMER = 2 ** 31 - 1;

/** The real clock: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const end = Date.now() + ms;
      const arm = (left: number) => {
        if (left <= 0) {
          signal?.removeEventListener("abort", onAbort);
          return resolve();
        }
        if (left === Infinity) return; // wait for the signal only
        timer = setTimeout(
          () => arm(end - Date.now()),
          Math.min(left, MAX_TIMER),
        );
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      arm(ms);
    }),
};
