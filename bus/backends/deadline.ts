// Bounds on a backend's calls: a deadline on a promise, and the error a
// health check's aborted signal becomes.
import { canceled, CqiError, timeout } from "@cqi/errors";

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

/** What `check(signal)` throws once `signal` aborted: its `CqiError`, else `timeout` or `canceled`. */
export function abortedCheck(
  system: string,
): (signal: AbortSignal) => CqiError {
  return (signal) =>
    signal.reason instanceof CqiError
      ? signal.reason
      : (signal.reason as Error | undefined)?.name === "TimeoutError"
      ? timeout(`${system} check timed out`, { cause: signal.reason })
      : canceled(`${system} check canceled`, { cause: signal.reason });
}
