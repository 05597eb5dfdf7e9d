// How a refusal travels from a verifier to the middleware: an `unauthorized`
// (or, when keys cannot be fetched, `temporary`) CqiError whose cause is an
// AuthFailure naming the reason — for the access log, never for the client.
import { type CqiError, temporary, unauthorized } from "@cqi/errors";

/** The one public message for every rejected credential. */
export const INVALID_MESSAGE = "invalid credentials";
/** The public message when no credential was sent. */
export const MISSING_MESSAGE = "authentication required";
/** The public message when verification keys cannot be fetched. */
export const UNAVAILABLE_MESSAGE = "authentication temporarily unavailable";

/** Why a credential was refused; the cause of the error. */
export class AuthFailure extends Error {
  /** Whether the caller sent a credential (RFC 6750 `invalid_token`). */
  readonly presented: boolean;

  constructor(reason: string, presented: boolean, cause?: unknown) {
    super(reason, cause === undefined ? undefined : { cause });
    this.name = "AuthFailure";
    this.presented = presented;
  }
}

/** The `unauthorized` error for a refused (or, `presented` false, missing) credential. */
export function refusal(
  reason: string,
  presented = true,
  cause?: unknown,
): CqiError {
  return unauthorized(presented ? INVALID_MESSAGE : MISSING_MESSAGE, {
    cause: new AuthFailure(reason, presented, cause),
  });
}

/** The `temporary` error when a key source is down. */
export function unavailable(reason: string, cause: unknown): CqiError {
  return temporary(UNAVAILABLE_MESSAGE, {
    cause: new AuthFailure(reason, true, cause),
  });
}

/** The AuthFailure behind an error, if there is one. */
export function failureOf(error: unknown): AuthFailure | undefined {
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause instanceof AuthFailure ? cause : undefined;
}
