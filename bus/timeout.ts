import { timeout as timeoutError } from "@cqi/errors";
import { raceSignal } from "@cqi/retry";
import type { Middleware } from "./types.ts";

/**
 * Subscriber middleware that gives the rest of the chain `ms` milliseconds:
 * then `message.signal` aborts and the delivery fails as `timeout` (a
 * temporary failure: retried, then dead-lettered). A handler that ignores
 * the signal runs on, but its result no longer counts.
 *
 * @example Usage
 * ```ts
 * import { timeout } from "@cqi/bus";
 *
 * const middleware = [timeout(5_000)];
 * ```
 *
 * @param ms The deadline in milliseconds.
 * @returns The middleware.
 */
export function timeout(ms: number): Middleware {
  if (!(ms > 0) || !Number.isFinite(ms)) {
    throw new RangeError(`timeout: ms must be a positive number, got ${ms}`);
  }
  return async (message, next) => {
    // A timer cleared when the handler ends (AbortSignal.timeout's lives on
    // for the whole period, one per message).
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), ms);
    const signal = AbortSignal.any([message.signal, deadline.signal]);
    try {
      return await raceSignal(
        next({ ...message, signal }),
        signal,
        () =>
          deadline.signal.aborted
            ? timeoutError(
              `handler of ${message.topic} timed out after ${ms} ms`,
            )
            : message.signal.reason,
      );
    } finally {
      clearTimeout(timer);
    }
  };
}
