import { timeout as timeoutError } from "@cqi/errors";
import { raceSignal } from "./abort.ts";
import { type Clock, systemClock } from "./clock.ts";

/**
 * Options for {@linkcode withTimeout}.
 *
 * @example Usage
 * ```ts
 * import type { TimeoutOptions } from "@cqi/retry";
 *
 * const options: TimeoutOptions = { signal: AbortSignal.timeout(10_000) };
 * ```
 */
export interface TimeoutOptions {
  /** The caller's signal: aborting it aborts `fn` and rejects with its reason. */
  signal?: AbortSignal;
  /** The time source; tests pass a fake one. Default: the system clock. */
  clock?: Clock;
}

/**
 * Runs `fn` with a deadline. `fn` receives a signal that aborts after `ms`
 * milliseconds (or when the caller's `signal` does); at the deadline the
 * returned promise rejects at once with a `timeout` `CqiError`, which is
 * also the signal's reason, whether or not `fn` stops. Combine with
 * {@linkcode retry} for a deadline per attempt: `timeout` errors are retried
 * by default.
 *
 * @example Usage
 * ```ts
 * import { isTimeout } from "@cqi/errors";
 * import { withTimeout } from "@cqi/retry";
 *
 * const never = ({ signal }: { signal: AbortSignal }) =>
 *   new Promise<never>((_, reject) =>
 *     signal.addEventListener("abort", () => reject(signal.reason))
 *   );
 * const err = await withTimeout(never, 10).catch((e: Error) => e);
 * console.log(isTimeout(err), err.message); // true "timed out after 10 ms"
 * ```
 *
 * @typeParam T What `fn` returns.
 * @param fn The operation; pass its `signal` on to the I/O it does.
 * @param ms The deadline in milliseconds (`Infinity` for none).
 * @param options The caller's signal and the clock.
 * @returns What `fn` returned, if in time.
 * @throws {TypeError} When `fn` is not a function.
 * @throws {RangeError} When `ms` is not a number >= 0.
 */
export async function withTimeout<T>(
  fn: (context: { signal: AbortSignal }) => T | Promise<T>,
  ms: number,
  options: TimeoutOptions = {},
): Promise<T> {
  if (typeof fn !== "function") {
    throw new TypeError(`withTimeout: fn must be a function, got ${typeof fn}`);
  }
  if (!(ms >= 0)) {
    throw new RangeError(
      `withTimeout: ms must be milliseconds >= 0, got ${ms}`,
    );
  }
  const { signal: parent } = options;
  const clock = options.clock ?? systemClock;
  parent?.throwIfAborted();

  const controller = new AbortController();
  const done = new AbortController(); // cancels the timer once settled
  const onParentAbort = () => controller.abort(parent?.reason);
  parent?.addEventListener("abort", onParentAbort, { once: true });
  clock.sleep(ms, done.signal).then(
    () => controller.abort(timeoutError(`timed out after ${ms} ms`)),
    () => {}, // settled first
  );
  try {
    const result = (async () => await fn({ signal: controller.signal }))();
    return await raceSignal(result, controller.signal);
  } finally {
    done.abort();
    parent?.removeEventListener("abort", onParentAbort);
  }
}
