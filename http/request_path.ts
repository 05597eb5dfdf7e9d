// Characters a path can hold that the URL parser leaves exactly as they are:
// no dot (dot segments), no percent (an encoded dot is a dot segment too), no
// backslash, whitespace, control, quote or non-ASCII character (removed,
// rewritten or encoded).
const PLAIN_PATH = /^\/[A-Za-z0-9\-_~!$&'()*+,;=:@/]*$/;

/**
 * The one path of a request, as every CQI module reads it: the router
 * matches it, auth's exclusions, the access log, metrics and traces use it.
 * It is the part of the URL from the first `/` after the authority up to the
 * query or fragment, normalised once the way the WHATWG URL parser
 * normalises a path (dot segments and encoded dot segments resolved, `\`
 * read as `/`, tabs and newlines removed, other characters percent-encoded)
 * — so it is the same on Deno, which passes the request target on as it
 * came, and on Bun, which resolves it first. The authority is never parsed:
 * whatever a raw `Host` header put there cannot move where the path starts.
 * Percent-escapes other than dots stay encoded (the router decodes segments
 * itself). `/` when the URL has no path. A plain path costs one regular
 * expression test.
 *
 * @example Usage
 * ```ts
 * import { requestPath } from "@cqi/http";
 *
 * console.log(requestPath("http://localhost:8080/orders/7?page=2")); // "/orders/7"
 * console.log(requestPath("http://localhost/health/%2e%2e/admin")); // "/admin"
 * ```
 *
 * @param url A request URL (`req.url`).
 * @returns Its normalised path.
 */
export function requestPath(url: string): string {
  const authority = url.indexOf("//");
  const start = url.indexOf("/", authority < 0 ? 0 : authority + 2);
  if (start < 0) return "/";
  let end = url.length;
  for (let i = start; i < end; i++) {
    const c = url.charCodeAt(i);
    if (c === 63 || c === 35) end = i; // ? or #
  }
  const path = url.slice(start, end);
  if (PLAIN_PATH.test(path)) return path;
  // A fixed authority, so "//x" in the path stays path, never a host. The
  // rest of the URL goes along: the parser trims spaces only at its end.
  return new URL("http://h" + url.slice(start)).pathname;
}
