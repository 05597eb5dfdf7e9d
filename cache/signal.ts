import { canceled } from "@cqi/errors";

/**
 * Settles as `promise`, unless `signal` aborts first: then rejects with
 * `reason()` (by default a `canceled` error). The promise runs on either way.
 */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  reason: () => unknown = () => aborted(signal!),
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(reason());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}

function aborted(signal: AbortSignal) {
  return canceled("cache call canceled", { cause: signal.reason });
}
