import { CqiError, type ErrorKind } from "./error.ts";

// Cause chains can be cyclic or absurdly deep; stop looking after this many.
const MAX_DEPTH = 64;

/**
 * Returns the kind of an error: that of the first {@linkcode CqiError} on
 * its cause chain, `timeout` for a `TimeoutError` (as thrown on
 * `AbortSignal.timeout`), or for an `AggregateError` the kind its errors
 * share. `undefined` when the error has no kind (map it as `permanent`).
 *
 * @example Usage
 * ```ts
 * import { kindOf, notFound } from "@cqi/errors";
 *
 * const err = new Error("lookup failed", { cause: notFound("asset", "X") });
 * console.log(kindOf(err)); // "not_found"
 * console.log(kindOf(new Error("boom"))); // undefined
 * ```
 *
 * @param error Any thrown value.
 * @returns The kind, if any.
 */
export function kindOf(error: unknown): ErrorKind | undefined {
  return kindAt(error, 0);
}

function kindAt(error: unknown, start: number): ErrorKind | undefined {
  let current = error;
  for (let depth = start; depth < MAX_DEPTH; depth++) {
    if (current instanceof CqiError) return current.kind;
    if (isTimeoutError(current)) return "timeout";
    if (current instanceof AggregateError) {
      return sharedKind(current.errors, depth + 1);
    }
    if (!(current instanceof Error) || current.cause === undefined) return;
    current = current.cause;
  }
}

/**
 * Reports whether `error`, anything on its cause chain, or any error inside
 * an `AggregateError` on it, has the given kind.
 *
 * @example Usage
 * ```ts
 * import { hasKind, temporary } from "@cqi/errors";
 *
 * const err = new AggregateError([new Error("a"), temporary("b")]);
 * console.log(hasKind(err, "temporary")); // true
 * ```
 *
 * @param error Any thrown value.
 * @param kind The kind to look for.
 * @returns Whether it was found.
 */
export function hasKind(error: unknown, kind: ErrorKind): boolean {
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): boolean => {
    if (depth > MAX_DEPTH || seen.has(value)) return false;
    seen.add(value);
    if (value instanceof CqiError && value.kind === kind) return true;
    if (kind === "timeout" && isTimeoutError(value)) return true;
    if (value instanceof AggregateError) {
      for (const inner of value.errors) {
        if (visit(inner, depth + 1)) return true;
      }
    }
    return value instanceof Error && value.cause !== undefined &&
      visit(value.cause, depth + 1);
  };
  return visit(error, 0);
}

/**
 * Whether the error is, or was caused by, a `permanent` error.
 *
 * @example Usage
 * ```ts
 * import { isPermanent, permanent } from "@cqi/errors";
 *
 * console.log(isPermanent(permanent("bug"))); // true
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether a `permanent` error is on its chain.
 */
export function isPermanent(error: unknown): boolean {
  return hasKind(error, "permanent");
}

/**
 * Whether the error is, or was caused by, a `temporary` error.
 *
 * @example Usage
 * ```ts
 * import { isTemporary, temporary, wrap } from "@cqi/errors";
 *
 * console.log(isTemporary(wrap(temporary("db down"), "save"))); // true
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether a `temporary` error is on its chain.
 */
export function isTemporary(error: unknown): boolean {
  return hasKind(error, "temporary");
}

/**
 * Whether the error is, or was caused by, a `not_found` error.
 *
 * @example Usage
 * ```ts
 * import { isNotFound, notFound } from "@cqi/errors";
 *
 * console.log(isNotFound(notFound("order", 1))); // true
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether a `not_found` error is on its chain.
 */
export function isNotFound(error: unknown): boolean {
  return hasKind(error, "not_found");
}

/**
 * Whether the error is, or was caused by, an `invalid_input` error.
 *
 * @example Usage
 * ```ts
 * import { invalidInput, isInvalidInput } from "@cqi/errors";
 *
 * console.log(isInvalidInput(invalidInput("bad id"))); // true
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether an `invalid_input` error is on its chain.
 */
export function isInvalidInput(error: unknown): boolean {
  return hasKind(error, "invalid_input");
}

/**
 * Whether the error is, or was caused by, an `unauthorized` error.
 *
 * @example Usage
 * ```ts
 * import { isUnauthorized, unauthorized } from "@cqi/errors";
 *
 * console.log(isUnauthorized(unauthorized())); // true
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether an `unauthorized` error is on its chain.
 */
export function isUnauthorized(error: unknown): boolean {
  return hasKind(error, "unauthorized");
}

/**
 * Whether the error is, or was caused by, a `forbidden` error.
 *
 * @example Usage
 * ```ts
 * import { forbidden, isForbidden } from "@cqi/errors";
 *
 * console.log(isForbidden(forbidden())); // true
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether a `forbidden` error is on its chain.
 */
export function isForbidden(error: unknown): boolean {
  return hasKind(error, "forbidden");
}

/**
 * Whether the error is, or was caused by, a `conflict` error.
 *
 * @example Usage
 * ```ts
 * import { conflict, isConflict } from "@cqi/errors";
 *
 * console.log(isConflict(conflict("duplicate order"))); // true
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether a `conflict` error is on its chain.
 */
export function isConflict(error: unknown): boolean {
  return hasKind(error, "conflict");
}

/**
 * Whether the error is, or was caused by, a `too_large` error.
 *
 * @example Usage
 * ```ts
 * import { isTooLarge, tooLarge } from "@cqi/errors";
 *
 * console.log(isTooLarge(tooLarge())); // true
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether a `too_large` error is on its chain.
 */
export function isTooLarge(error: unknown): boolean {
  return hasKind(error, "too_large");
}

/**
 * Whether the error is, or was caused by, a `rate_limited` error.
 *
 * @example Usage
 * ```ts
 * import { isRateLimited, rateLimited } from "@cqi/errors";
 *
 * console.log(isRateLimited(rateLimited())); // true
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether a `rate_limited` error is on its chain.
 */
export function isRateLimited(error: unknown): boolean {
  return hasKind(error, "rate_limited");
}

/**
 * Whether the error is, or was caused by, a `canceled` error (the client
 * went away).
 *
 * @example Usage
 * ```ts
 * import { canceled, isCanceled } from "@cqi/errors";
 *
 * console.log(isCanceled(canceled())); // true
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether a `canceled` error is on its chain.
 */
export function isCanceled(error: unknown): boolean {
  return hasKind(error, "canceled");
}

/**
 * Whether the error is, or was caused by, a `timeout` error (including a
 * `TimeoutError` from `AbortSignal.timeout`).
 *
 * @example Usage
 * ```ts
 * import { isTimeout, timeout } from "@cqi/errors";
 *
 * console.log(isTimeout(timeout())); // true
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether a timeout is on its chain.
 */
export function isTimeout(error: unknown): boolean {
  return hasKind(error, "timeout");
}

function isTimeoutError(value: unknown): boolean {
  return value instanceof DOMException && value.name === "TimeoutError";
}

function sharedKind(
  errors: unknown[],
  depth: number,
): ErrorKind | undefined {
  let shared: ErrorKind | undefined;
  for (const inner of errors) {
    const kind = kindAt(inner, depth);
    if (kind === undefined || (shared !== undefined && kind !== shared)) return;
    shared = kind;
  }
  return shared;
}
