/**
 * Settles as `promise` does, or rejects as soon as `signal` aborts (at once
 * if it has), whichever comes first; `promise` itself goes on, and its late
 * outcome is handled, so it never surfaces as an unhandled rejection. The
 * rejection is `signal.reason`, or what `reason(signal)` makes of it.
 *
 * @example Stop waiting, not the work
 * ```ts
 * import { raceSignal } from "@cqi/retry";
 *
 * const slow = new Promise((resolve) => setTimeout(resolve, 50, "done"));
 * const outcome = await raceSignal(slow, AbortSignal.timeout(10)).catch((e) => e.name);
 * console.log(outcome); // "TimeoutError"
 * ```
 *
 * @param promise The work to wait for.
 * @param signal Stops the wait when it aborts; none waits for the promise.
 * @param reason Makes the rejection from the aborted signal.
 * @returns The promise's outcome, unless the signal aborted first.
 */
export function raceSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  reason: (signal: AbortSignal) => unknown = (signal) => signal.reason,
): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      promise.catch(() => {});
      return reject(reason(signal));
    }
    const onAbort = () => reject(reason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}
