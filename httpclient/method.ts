// Checking a request method before anything is sent. Internal.

// RFC 9110 §5.6.2: a token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Fetch's forbidden methods: a tunnel, or an echo of the request's headers.
const FORBIDDEN: ReadonlySet<string> = new Set(["CONNECT", "TRACE", "TRACK"]);

/**
 * The method, upper-cased. Throws `TypeError` naming it (quoted, at most 32
 * characters) when it is not an RFC 9110 token or is `CONNECT`, `TRACE` or
 * `TRACK`.
 */
export function checkMethod(method: string): string {
  const upper = String(method).toUpperCase();
  if (!TOKEN.test(upper) || FORBIDDEN.has(upper)) {
    throw new TypeError(
      `httpclient: ${
        JSON.stringify(String(method).slice(0, 32))
      } is not a method the client sends`,
    );
  }
  return upper;
}
