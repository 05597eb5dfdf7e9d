/**
 * The path of a request's URL as it came: from the first `/` after the
 * authority up to the query or fragment, not parsed (no dot segment
 * resolved, nothing decoded), `/` when there is none. Every CQI reader of the
 * path starts here — the router, auth's exclusions, the access log — so they
 * agree on where it begins even when the authority is a raw `Host` header
 * (Deno builds `req.url` from it as sent). Cheaper than `new URL`.
 *
 * @example Usage
 * ```ts
 * import { requestPath } from "@cqi/http";
 *
 * console.log(requestPath("http://localhost:8080/orders/7?page=2")); // "/orders/7"
 * ```
 *
 * @param url A request URL (`req.url`).
 * @returns Its path, as sent.
 */
export function requestPath(url: string): string {
  const start = pathStart(url);
  if (start < 0) return "/";
  let end = url.length;
  for (let i = start; i < end; i++) {
    const c = url.charCodeAt(i);
    if (c === 63 || c === 35) end = i; // ? or #
  }
  return url.slice(start, end);
}

/** Where the path of `url` begins (see `requestPath`), or -1. Internal. */
export function pathStart(url: string): number {
  const authority = url.indexOf("//");
  return url.indexOf("/", authority < 0 ? 0 : authority + 2);
}
