import {
  CqiError,
  type CqiErrorOptions,
  type ErrorKind,
  markWrapper,
} from "./error.ts";
import { kindOf } from "./predicates.ts";

/**
 * A failure retrying will not fix: a bug, corrupt data, a broken invariant.
 * Answers 500 with the body message `internal error`.
 *
 * @example Usage
 * ```ts
 * import { permanent } from "@cqi/errors";
 *
 * const err = permanent("ledger out of balance", {
 *   cause: new Error("sum != 0"),
 * });
 * console.log(err.kind); // "permanent"
 * ```
 *
 * @param message What went wrong (logged, not shown to clients).
 * @param options The cause.
 * @returns The error.
 */
export function permanent(
  message: string,
  options?: Pick<CqiErrorOptions, "cause">,
): CqiError {
  return new CqiError("permanent", message, options);
}

/**
 * A dependency is unavailable; a retry may succeed, after `retryAfter`
 * milliseconds when given. Answers 503.
 *
 * @example Usage
 * ```ts
 * import { temporary } from "@cqi/errors";
 *
 * const err = temporary("price feed unavailable", { retryAfter: 1_000 });
 * console.log(err.kind); // "temporary"
 * ```
 *
 * @param message A public message.
 * @param options The cause and a retry delay.
 * @returns The error.
 */
export function temporary(
  message: string,
  options?: Pick<CqiErrorOptions, "cause" | "retryAfter">,
): CqiError {
  return new CqiError("temporary", message, options);
}

/**
 * A resource does not exist. Answers 404 with `<resource> "<id>" not found`.
 *
 * @example Usage
 * ```ts
 * import { notFound } from "@cqi/errors";
 *
 * console.log(notFound("position", "BTC-1").message); // 'position "BTC-1" not found'
 * ```
 *
 * @param resource The kind of thing looked for, such as `position`.
 * @param id Its identifier, if there is one.
 * @param options The cause.
 * @returns The error.
 */
export function notFound(
  resource: string,
  id?: string | number,
  options?: Pick<CqiErrorOptions, "cause">,
): CqiError {
  const message = id === undefined
    ? `${resource} not found`
    : `${resource} ${JSON.stringify(String(id))} not found`;
  return new CqiError("not_found", message, options);
}

/**
 * The caller sent something wrong. Answers 400; `fields` names each bad
 * field and is included in the response body.
 *
 * @example Usage
 * ```ts
 * import { invalidInput } from "@cqi/errors";
 *
 * const err = invalidInput("invalid position", {
 *   fields: { quantity: "expected a number" },
 * });
 * console.log(err.fields); // { quantity: "expected a number" }
 * ```
 *
 * @param message A public message.
 * @param options The bad fields and the cause.
 * @returns The error.
 */
export function invalidInput(
  message: string,
  options?: Pick<CqiErrorOptions, "cause" | "fields">,
): CqiError {
  return new CqiError("invalid_input", message, options);
}

/**
 * The caller is not authenticated. Answers 401.
 *
 * @example Usage
 * ```ts
 * import { unauthorized } from "@cqi/errors";
 *
 * console.log(unauthorized("missing bearer token").kind); // "unauthorized"
 * ```
 *
 * @param message A public message.
 * @param options The cause.
 * @returns The error.
 */
export function unauthorized(
  message = "unauthorized",
  options?: Pick<CqiErrorOptions, "cause">,
): CqiError {
  return new CqiError("unauthorized", message, options);
}

/**
 * The caller is authenticated but not allowed. Answers 403.
 *
 * @example Usage
 * ```ts
 * import { forbidden } from "@cqi/errors";
 *
 * console.log(forbidden("scope orders:write required").kind); // "forbidden"
 * ```
 *
 * @param message A public message.
 * @param options The cause.
 * @returns The error.
 */
export function forbidden(
  message = "forbidden",
  options?: Pick<CqiErrorOptions, "cause">,
): CqiError {
  return new CqiError("forbidden", message, options);
}

/**
 * The request conflicts with the current state (a duplicate key, a stale
 * version). Answers 409.
 *
 * @example Usage
 * ```ts
 * import { conflict } from "@cqi/errors";
 *
 * console.log(conflict("order already exists").kind); // "conflict"
 * ```
 *
 * @param message A public message.
 * @param options The cause.
 * @returns The error.
 */
export function conflict(
  message: string,
  options?: Pick<CqiErrorOptions, "cause">,
): CqiError {
  return new CqiError("conflict", message, options);
}

/**
 * The caller sent more than is accepted, such as a request body over its
 * limit. Answers 413.
 *
 * @example Usage
 * ```ts
 * import { tooLarge } from "@cqi/errors";
 *
 * console.log(tooLarge("body over 1 MiB").kind); // "too_large"
 * ```
 *
 * @param message A public message.
 * @param options The cause.
 * @returns The error.
 */
export function tooLarge(
  message = "content too large",
  options?: Pick<CqiErrorOptions, "cause">,
): CqiError {
  return new CqiError("too_large", message, options);
}

/**
 * The caller sent too much; answers 429 with `Retry-After` when
 * `retryAfter` (milliseconds) is given.
 *
 * @example Usage
 * ```ts
 * import { rateLimited } from "@cqi/errors";
 *
 * const err = rateLimited("too many orders", { retryAfter: 30_000 });
 * console.log(err.retryAfter); // 30000
 * ```
 *
 * @param message A public message.
 * @param options The retry delay and the cause.
 * @returns The error.
 */
export function rateLimited(
  message = "rate limited",
  options?: Pick<CqiErrorOptions, "cause" | "retryAfter">,
): CqiError {
  return new CqiError("rate_limited", message, options);
}

/**
 * The client went away (closed the connection, cancelled the call) before it
 * was answered. Answers 499, nginx's "client closed request", which nobody
 * reads but which keeps a client's hang-up out of the 5xx counts.
 *
 * @example Usage
 * ```ts
 * import { canceled } from "@cqi/errors";
 *
 * const err = canceled("client closed the connection", {
 *   cause: new Error("connection reset"),
 * });
 * console.log(err.kind); // "canceled"
 * ```
 *
 * @param message A public message, though nobody reads a 499.
 * @param options The cause.
 * @returns The error.
 */
export function canceled(
  message = "canceled",
  options?: Pick<CqiErrorOptions, "cause">,
): CqiError {
  return new CqiError("canceled", message, options);
}

/**
 * An operation ran out of time. Answers 504.
 *
 * @example Usage
 * ```ts
 * import { timeout } from "@cqi/errors";
 *
 * console.log(timeout("quote took longer than 250 ms").kind); // "timeout"
 * ```
 *
 * @param message A public message.
 * @param options The cause.
 * @returns The error.
 */
export function timeout(
  message = "timed out",
  options?: Pick<CqiErrorOptions, "cause">,
): CqiError {
  return new CqiError("timeout", message, options);
}

/**
 * Adds context to an error while keeping its kind (the first kind found in
 * its cause chain; `permanent` when there is none), `retryAfter` and
 * `fields`. The original error becomes the cause. The new message is for
 * logs: a client is still shown the message of the error that set the kind.
 *
 * @example Usage
 * ```ts
 * import { notFound, wrap } from "@cqi/errors";
 *
 * const err = wrap(notFound("account", 7), "load portfolio");
 * console.log(err.kind, err.cause instanceof Error); // "not_found" true
 * ```
 *
 * @param error The error to wrap.
 * @param message What was being done.
 * @returns A new error whose cause is `error`.
 */
export function wrap(error: unknown, message: string): CqiError {
  const kind: ErrorKind = kindOf(error) ?? "permanent";
  const retryAfter = error instanceof CqiError ? error.retryAfter : undefined;
  const fields = error instanceof CqiError ? error.fields : undefined;
  return markWrapper(
    new CqiError(kind, message, { cause: error, retryAfter, fields }),
  );
}
