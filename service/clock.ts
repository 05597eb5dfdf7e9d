/**
 * Time as seen by a {@linkcode runner} and by {@linkcode run}: the
 * health-check interval, start delays, restart backoff, the drain delay and
 * the grace period all wait through `sleep`. Tests pass a fake one so that a
 * 60-second backoff takes no time. Structurally the same as
 * `Clock` from `@cqi/retry`.
 *
 * @example A clock that never waits
 * ```ts
 * import type { RunnerClock } from "@cqi/service";
 *
 * let now = 0;
 * const instant: RunnerClock = {
 *   now: () => now,
 *   sleep: (ms) => {
 *     now += ms;
 *     return Promise.resolve();
 *   },
 * };
 * await instant.sleep(1_000);
 * console.log(instant.now()); // 1000
 * ```
 */
export interface RunnerClock {
  /** The current time in milliseconds. */
  now(): number;
  /** Resolves after `ms`; rejects with `signal.reason` once `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: RunnerClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.min(Math.max(0, ms), 2 ** 31 - 1));
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};
