import { json } from "@cqi/http";
import { CqiError, isWrapper } from "./error.ts";
import { mappingOf } from "./mapping.ts";

/**
 * The JSON body of every CQI error response.
 *
 * @example Usage
 * ```ts
 * import type { ErrorBody } from "@cqi/errors";
 *
 * const body: ErrorBody = { error: 'order "7" not found', code: "NOT_FOUND" };
 * ```
 */
export interface ErrorBody {
  /** The public message. */
  error: string;
  /** The machine-readable code. */
  code: string;
  /** For `INVALID_INPUT`: each bad field's path and the problem. */
  fields?: Record<string, string>;
}

/**
 * Builds the HTTP response for an error: the mapped status,
 * `content-type: application/json`, the body `{"error", "code"}` (plus
 * `fields` for invalid input) and `Retry-After` in seconds when the error
 * carries `retryAfter`.
 *
 * Only what a {@linkcode CqiError} says on purpose reaches the body: the
 * message and fields of the outermost CQI error on the chain that was not
 * made by `wrap`. A cause, a stack, a `wrap` message, the message of any
 * other error, and the message of a `permanent` error never do; those answer
 * the kind's generic message, such as `"internal error"`.
 *
 * @example Usage
 * ```ts
 * import { errorResponse, notFound } from "@cqi/errors";
 *
 * const res = errorResponse(notFound("position", "BTC-1"));
 * console.log(res.status, await res.json());
 * // 404 { error: 'position "BTC-1" not found', code: "NOT_FOUND" }
 * ```
 *
 * @param error Any thrown value.
 * @returns The response to send.
 */
export function errorResponse(error: unknown): Response {
  const { status, code, message } = mappingOf(error);
  const source = publicSource(error);
  const body: ErrorBody = {
    error: status === 500 || source === undefined ? message : source.message,
    code,
  };
  if (source?.fields !== undefined && code === "INVALID_INPUT") {
    body.fields = { ...source.fields };
  }
  const headers = new Headers({
    "content-type": "application/json; charset=utf-8",
  });
  const retryAfter = error instanceof CqiError
    ? error.retryAfter
    : source?.retryAfter;
  if (
    retryAfter !== undefined && Number.isFinite(retryAfter) &&
    (status === 429 || status === 503)
  ) {
    headers.set("retry-after", String(Math.ceil(retryAfter / 1000)));
  }
  return json(body, { status, headers }); // with its Content-Length
}

function publicSource(error: unknown): CqiError | undefined {
  let current = error;
  for (let depth = 0; depth < 64; depth++) {
    if (current instanceof CqiError && !isWrapper(current)) return current;
    if (!(current instanceof Error)) return;
    current = current.cause;
  }
}
