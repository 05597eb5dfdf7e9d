import { json } from "./json.ts";

/**
 * The error body every CQI module answers with, `{"error","code"}`, as the
 * router and `serve` build it (`@cqi/errors` sits above this module), with
 * its Content-Length. Internal.
 */
export function jsonError(
  status: number,
  error: string,
  code: string,
  headers?: Record<string, string>,
): Response {
  return json({ error, code }, { status, headers });
}
