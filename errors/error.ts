/**
 * What went wrong, in terms a caller can act on. Each kind maps to one HTTP
 * status, one gRPC code and one public body code.
 *
 * - `permanent`: a bug or a state retrying will not fix (500 `INTERNAL`).
 * - `temporary`: a dependency is unavailable; retrying may help (503 `UNAVAILABLE`).
 * - `not_found` (404), `invalid_input` (400), `unauthorized` (401),
 *   `forbidden` (403), `conflict` (409), `too_large` (413),
 *   `rate_limited` (429), `timeout` (504).
 * - `canceled`: the client went away before its answer (499, nginx's "client
 *   closed request"; nobody reads it, but it stays out of the 5xx counts).
 *
 * @example Usage
 * ```ts
 * import type { ErrorKind } from "@cqi/errors";
 *
 * const kind: ErrorKind = "not_found";
 * ```
 */
export type ErrorKind =
  | "permanent"
  | "temporary"
  | "not_found"
  | "invalid_input"
  | "unauthorized"
  | "forbidden"
  | "conflict"
  | "too_large"
  | "rate_limited"
  | "canceled"
  | "timeout";

/** Every {@linkcode ErrorKind}, for validation. */
const KINDS: ReadonlySet<string> = new Set<ErrorKind>([
  "permanent",
  "temporary",
  "not_found",
  "invalid_input",
  "unauthorized",
  "forbidden",
  "conflict",
  "too_large",
  "rate_limited",
  "canceled",
  "timeout",
]);

/**
 * Options shared by the error constructors.
 *
 * @example Usage
 * ```ts
 * import type { CqiErrorOptions } from "@cqi/errors";
 *
 * const options: CqiErrorOptions = { retryAfter: 2_000 };
 * ```
 */
export interface CqiErrorOptions {
  /** The underlying error; kept for logs, never sent to a client. */
  cause?: unknown;
  /** Milliseconds after which a retry may succeed (rate limits, outages). */
  retryAfter?: number;
  /** For `invalid_input`: each bad field's path and what was wrong with it. */
  fields?: Record<string, string>;
}

/**
 * The one error class of CQI: a message, a {@linkcode ErrorKind} and an
 * optional cause. The message is public (it may reach a client); the cause
 * is private (it reaches logs only). Prefer the constructors such as
 * `notFound` and `temporary` over `new CqiError`.
 *
 * @example Usage
 * ```ts
 * import { CqiError } from "@cqi/errors";
 *
 * const err = new CqiError("conflict", "order already filled");
 * console.log(err.kind, err.message); // "conflict" "order already filled"
 * ```
 */
export class CqiError extends Error {
  /** What went wrong. */
  readonly kind: ErrorKind;
  /** Milliseconds after which a retry may succeed, if known. */
  readonly retryAfter?: number;
  /** For `invalid_input`: each bad field's path and the problem. */
  readonly fields?: Readonly<Record<string, string>>;

  /**
   * Creates an error.
   *
   * @param kind What went wrong.
   * @param message A public message, safe to show a client.
   * @param options A cause, a retry delay or the bad fields.
   */
  constructor(kind: ErrorKind, message: string, options: CqiErrorOptions = {}) {
    if (!KINDS.has(kind)) {
      throw new TypeError(`CqiError: unknown kind ${JSON.stringify(kind)}`);
    }
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "CqiError";
    this.kind = kind;
    if (options.retryAfter !== undefined) {
      if (!(options.retryAfter >= 0)) {
        throw new RangeError(
          `CqiError: retryAfter must be milliseconds >= 0, got ${options.retryAfter}`,
        );
      }
      this.retryAfter = options.retryAfter;
    }
    if (options.fields !== undefined) this.fields = { ...options.fields };
  }
}

// Errors made by `wrap`: their message describes what the code was doing and
// is not shown to clients (the error that set the kind speaks for them).
const wrappers = new WeakSet<CqiError>();

/** Marks an error as made by `wrap`. Internal. */
export function markWrapper(error: CqiError): CqiError {
  wrappers.add(error);
  return error;
}

/** Whether `wrap` made this error. Internal. */
export function isWrapper(error: CqiError): boolean {
  return wrappers.has(error);
}
