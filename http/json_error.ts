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
  return new Response(JSON.stringify({ error, code }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}
