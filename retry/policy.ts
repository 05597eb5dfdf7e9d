import { type ErrorKind, kindOf } from "@cqi/errors";

/**
 * Decides whether a failed attempt is worth another: `true` retries. Pass one
 * of {@linkcode retryTemporary} (the default), {@linkcode retryAll},
 * {@linkcode retryNone}, or your own predicate.
 *
 * @example A predicate
 * ```ts
 * import { hasKind } from "@cqi/errors";
 * import { type RetryPolicy, retryTemporary } from "@cqi/retry";
 *
 * // Also retry optimistic-locking conflicts.
 * const retryConflicts: RetryPolicy = (error) =>
 *   retryTemporary(error) || hasKind(error, "conflict");
 * ```
 */
export type RetryPolicy = (error: unknown) => boolean;

const RETRYABLE: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  "temporary",
  "timeout",
  "rate_limited",
]);

/**
 * The default policy: retries what may succeed next time: `temporary`,
 * `timeout` and `rate_limited` errors (the kind of the first `CqiError` on the
 * cause chain decides, as
 * with `kindOf`) and, for errors without a kind, network failures: a refused,
 * reset or timed-out connection (`ECONNREFUSED`, `ECONNRESET`, ... on the
 * error or its causes) and `fetch` failing to reach the server. Everything
 * else, such as `not_found`, `invalid_input` or a plain bug, is thrown at
 * once.
 *
 * @example Usage
 * ```ts
 * import { notFound, temporary, wrap } from "@cqi/errors";
 * import { retryTemporary } from "@cqi/retry";
 *
 * console.log(retryTemporary(wrap(temporary("db down"), "save"))); // true
 * console.log(retryTemporary(notFound("order", 7))); // false
 * console.log(retryTemporary(new TypeError("fetch failed"))); // true
 * ```
 *
 * @param error The failure.
 * @returns Whether it is transient.
 */
export function retryTemporary(error: unknown): boolean {
  const kind = kindOf(error);
  if (kind !== undefined) return RETRYABLE.has(kind);
  return isNetworkError(error);
}

/**
 * Retries every error. The abort reason of the caller's signal still ends
 * the retries at once.
 *
 * @example Usage
 * ```ts
 * import { retry, retryAll } from "@cqi/retry";
 *
 * let calls = 0;
 * await retry(() => {
 *   if (++calls === 1) throw new Error("anything");
 * }, { retryIf: retryAll, initialDelay: 1 });
 * console.log(calls); // 2
 * ```
 *
 * @param _error The failure.
 * @returns Always `true`.
 */
export function retryAll(_error: unknown): boolean {
  return true;
}

/**
 * Retries nothing: the first failure is thrown. Useful to switch retries off
 * through configuration without changing the call site.
 *
 * @example Usage
 * ```ts
 * import { temporary } from "@cqi/errors";
 * import { retry, retryNone } from "@cqi/retry";
 *
 * let calls = 0;
 * await retry(() => {
 *   calls++;
 *   throw temporary("down");
 * }, { retryIf: retryNone }).catch(() => {});
 * console.log(calls); // 1
 * ```
 *
 * @param _error The failure.
 * @returns Always `false`.
 */
export function retryNone(_error: unknown): boolean {
  return false;
}

// Socket error codes (Node, Bun, undici) that mean "the network failed,
// try again"; ENOTFOUND is left out: an unknown host rarely heals.
const NETWORK_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

// Deno.errors class names for the same conditions.
const NETWORK_NAMES: ReadonlySet<string> = new Set([
  "ConnectionRefused",
  "ConnectionReset",
  "ConnectionAborted",
  "BrokenPipe",
  "TimedOut",
  "NotConnected",
  "NetworkUnreachable",
]);

// fetch rejects with a TypeError: "fetch failed" (Deno, Node), "Failed to
// fetch" (browsers), "NetworkError when attempting to fetch" (Firefox).
const FETCH_FAILED = /^(fetch failed|failed to fetch)$|^networkerror /i;

const MAX_DEPTH = 16;

function isNetworkError(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (!(current instanceof Error)) return false;
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
    if (NETWORK_NAMES.has(current.name)) return true;
    if (current instanceof TypeError && FETCH_FAILED.test(current.message)) {
      return true;
    }
    current = current.cause;
  }
  return false;
}
