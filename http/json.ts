const NON_ASCII = /[\u0080-\u{10ffff}]/u;
const encoder = new TextEncoder();

/**
 * The length in bytes of `text` as UTF-8. Internal.
 *
 * @param text The text.
 * @returns Its UTF-8 length.
 */
export function byteLength(text: string): number {
  return NON_ASCII.test(text) ? encoder.encode(text).byteLength : text.length;
}

/**
 * `Response.json(data, init)` that also declares its `Content-Length`, so
 * that `httpMetrics` of `@cqi/metrics` observes its size (a body of unknown
 * length it does not read) at a cost of about 0.3 µs. Throws as
 * `Response.json` does for a value with no JSON form.
 *
 * @example Usage
 * ```ts
 * import { json } from "@cqi/http";
 *
 * const res = json({ id: "é1" }, { status: 201 });
 * console.log(res.status, res.headers.get("content-length")); // 201 "12"
 * ```
 *
 * @param data The value to send as JSON.
 * @param init Status and headers, as for `Response.json`.
 * @returns The response.
 */
export function json(data: unknown, init?: ResponseInit): Response {
  const res = Response.json(data, init);
  // the same text Response.json encodes (it stringifies the same way)
  res.headers.set("content-length", String(byteLength(JSON.stringify(data))));
  return res;
}
