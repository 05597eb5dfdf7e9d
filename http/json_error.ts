import { byteLength } from "./json.ts";

/**
 * The error body every CQI module answers with, `{"error","code"}`, as the
 * router and `serve` build it (`@cqi/errors` sits above this module). Not
 * `Response.json`: its content-type differs between Deno and Bun. Internal.
 */
export function jsonError(
  status: number,
  error: string,
  code: string,
  headers: Record<string, string> = {},
): Response {
  const body = JSON.stringify({ error, code });
  return new Response(body, {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "content-length": String(byteLength(body)),
      ...headers,
    },
  });
}
