/**
 * Sets headers on a response and returns it — or, when its headers are
 * immutable (`Response.redirect()`, a `fetch()` response, on Deno), a copy
 * with them set. Middleware that decorates the response from `next` should
 * use this rather than `res.headers.set`, which throws on such responses.
 * `set-cookie` is appended; every other header replaces any value it had.
 *
 * @example Usage
 * ```ts
 * import { type Middleware, withHeaders } from "@cqi/http";
 *
 * const poweredBy: Middleware = async (req, next) =>
 *   withHeaders(await next(req), { "x-powered-by": "cqi" });
 *
 * const res = await poweredBy(
 *   new Request("http://localhost/"),
 *   () => Promise.resolve(Response.redirect("http://localhost/elsewhere")),
 * );
 * console.log(res.status, res.headers.get("x-powered-by")); // 302 "cqi"
 * ```
 *
 * @param res The response to decorate.
 * @param headers The headers to set.
 * @returns `res`, or a copy of it when its headers could not be changed.
 */
export function withHeaders(
  res: Response,
  headers: Record<string, string> | Array<[string, string]>,
): Response {
  const entries = Array.isArray(headers) ? headers : Object.entries(headers);
  if (entries.length === 0) return res;
  let target = res;
  try {
    apply(target.headers, entries);
  } catch {
    target = new Response(res.body, res);
    apply(target.headers, entries);
  }
  return target;
}

function apply(target: Headers, entries: Array<[string, string]>): void {
  for (const [name, value] of entries) {
    if (name.toLowerCase() === "set-cookie") target.append(name, value);
    else target.set(name, value);
  }
}
