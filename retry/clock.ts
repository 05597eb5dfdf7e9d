/**
 * Time as seen by every CQI module that reads or waits for it: retry,
 * timeouts, breakers and budgets here, the service runner and `run`, JWT
 * checks and health caching. The default is the
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

/**
 * The real clock: `Date.now()` and `setTimeout` (waits longer than a timer
 * allows are chained; `Infinity` waits for the signal alone). The default of
 * every module that takes a {@linkcode Clock}.
 *
 * @example Usage
 * ```ts
 * import { systemClock } from "@cqi/retry";
 *
 * const started = systemClock.now();
 * await systemClock.sleep(10);
 * console.log(systemClock.now() - started >= 10); // true
 * ```
 */
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
