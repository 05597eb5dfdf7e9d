import { canceled, type CqiError } from "@cqi/errors";

/** The error of a cache call whose signal aborted. */
export function canceledBy(signal: AbortSignal): CqiError {
  return canceled("cache call canceled", { cause: signal.reason });
}
