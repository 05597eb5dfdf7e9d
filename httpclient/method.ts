// Checking a request method before anything is sent. Internal.

// RFC 9110 §5.6.2: a token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Fetch's forbidden methods: a tunnel, or an echo of the request's headers.
const FORBIDDEN: ReadonlySet<string> = new Set(["CONNECT", "TRACE", "TRACK"]);
// The methods fetch normalizes (upper-cases), PATCH too as runtimes do.
const STANDARD: ReadonlySet<string> = new Set([
  "DELETE",
  "GET",
  "HEAD",
  "OPTIONS",
  "PATCH",
  "POST",
  "PUT",
]);
// The methods Bun's fetch sends as given (it sends any other as GET).
const BUN_METHODS: ReadonlySet<string> = new Set([
  ...STANDARD,
  ..."ACL BIND CHECKOUT COPY LINK LOCK M-SEARCH MERGE MKACTIVITY MKCALENDAR MKCOL MOVE NOTIFY PROPFIND PROPPATCH PURGE QUERY REBIND REPORT SEARCH SOURCE SUBSCRIBE UNBIND UNLINK UNLOCK UNSUBSCRIBE"
    .split(" "),
]);
const BUN = "Bun" in globalThis;

/**
 * The method as sent: the standard ones (`GET`, `POST`, ...) upper-cased,
 * others as given. Throws `TypeError` naming it (quoted, at most 32
 * characters) when it is not an RFC 9110 token, is `CONNECT`, `TRACE` or
 * `TRACK` (in any case), or, on Bun, is one Bun's fetch cannot send.
 */
export function checkMethod(method: string): string {
  const raw = String(method);
  const upper = raw.toUpperCase();
  const name = JSON.stringify(raw.slice(0, 32));
  if (!TOKEN.test(raw) || FORBIDDEN.has(upper)) {
    throw new TypeError(`httpclient: ${name} is not a method the client sends`);
  }
  const sent = STANDARD.has(upper) ? upper : raw;
  if (BUN && !BUN_METHODS.has(sent)) {
    throw new TypeError(
      `httpclient: ${name} is not a method Bun's fetch can send (it would send GET)`,
    );
  }
  return sent;
}
