// Bounds on a backend's calls: a deadline on a promise, and a health check
// bounded by a deadline and a signal.
import { canceled, CqiError, timeout } from "@cqi/errors";
import { raceSignal } from "@cqi/retry";

/** Rejects with `onTimeout()` when `work` has not settled after `ms`. */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => unknown,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
    work.catch(() => {});
  }
}

/**
 * A backend's health check: `work` within `ms`, and until `signal` aborts
 * (then its reason if a `CqiError`, else `timeout` or `canceled`).
 */
export async function probe(
  system: string,
  signal: AbortSignal | undefined,
  ms: number,
  work: () => Promise<void>,
): Promise<void> {
  const reason = (s: AbortSignal) =>
    s.reason instanceof CqiError
      ? s.reason
      : (s.reason as Error | undefined)?.name === "TimeoutError"
      ? timeout(`${system} check timed out`, { cause: s.reason })
      : canceled(`${system} check canceled`, { cause: s.reason });
  if (signal?.aborted) throw reason(signal);
  await withDeadline(
    raceSignal(work(), signal, reason),
    ms,
    () => timeout(`${system} check: no answer within ${ms} ms`),
  );
}
