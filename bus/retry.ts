import { exponential, retryTemporary, systemClock } from "@cqi/retry";
import { stoppingOf } from "./stopping.ts";
import type { Middleware, RetryPolicyOptions } from "./types.ts";

/**
 * Subscriber middleware that delivers a message again when the rest of the
 * chain fails with a temporary error (`temporary`, `timeout`,
 * `rate_limited`, a network error), waiting an exponential backoff between
 * attempts; `message.attempt` counts them. Any other failure, or the last
 * attempt's, is thrown on (to the dead-letter topic). A subscription that
 * starts closing stops the waits: the message is not committed and comes
 * again later. Every subscription has one already (its `retry` option):
 * use this in a chain of your own after setting that to `{ maxAttempts: 1 }`.
 *
 * @example Usage
 * ```ts
 * import { createBus, retry } from "@cqi/bus";
 * import { json } from "@cqi/codec";
 *
 * await using bus = createBus("memory://");
 * const Ping = json<{ n: number }>(undefined, { name: "cqc.events.v1.Ping" });
 * await bus.subscribe(Ping, () => {}, {
 *   retry: { maxAttempts: 1 },
 *   middleware: [retry({ maxAttempts: 5, initialDelay: 50 })],
 * });
 * ```
 *
 * @param options Attempts and delays.
 * @returns The middleware.
 */
export function retry(options: RetryPolicyOptions = {}): Middleware {
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(
      `retry: maxAttempts must be an integer >= 1, got ${maxAttempts}`,
    );
  }
  const backoff = exponential({
    initialDelay: options.initialDelay ?? 100,
    maxDelay: options.maxDelay ?? Math.max(5_000, options.initialDelay ?? 0),
  });
  if (maxAttempts === 1) return (message, next) => next(message);
  // Not `retry()` of @cqi/retry: its signal would also abandon the attempt
  // in flight, and a closing subscription lets that one finish.
  return async (message, next) => {
    const stopping = stoppingOf(message);
    for (let attempt = 1;; attempt++) {
      try {
        return await next(
          attempt === 1
            ? message
            : { ...message, attempt: message.attempt + attempt - 1 },
        );
      } catch (error) {
        if (attempt >= maxAttempts || !retryTemporary(error)) throw error;
        if (stopping.aborted) throw stopping.reason;
        await systemClock.sleep(backoff(attempt - 1), stopping);
      }
    }
  };
}

/**
 * The spec's `withRetry(attempts, delay)`: {@linkcode retry} with that many
 * attempts and that first delay in milliseconds.
 *
 * @example Usage
 * ```ts
 * import { withRetry } from "@cqi/bus";
 *
 * const middleware = [withRetry(3, 1_000)];
 * ```
 *
 * @param attempts Attempts in all, the first included.
 * @param delay Milliseconds before the first retry.
 * @returns The middleware.
 */
export function withRetry(attempts: number, delay: number): Middleware {
  return retry({ maxAttempts: attempts, initialDelay: delay });
}
