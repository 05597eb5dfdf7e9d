// Bounds on what a client sends that goes into a log line as it is: the path
// (where no route pattern replaced it), the method and header values. A
// hostile client can make any of them as long as the server accepts (about
// 60 KB of request target on Deno), and every such request would write it.
import { getRoute, requestPath } from "@cqi/http";
import type { Fields } from "./logger.ts";

/** Longest path written to a line, in characters (2 KiB). */
export const MAX_PATH_LENGTH = 2048;

/** Longest method, header value or other client text written, in characters. */
export const MAX_VALUE_LENGTH = 512;

/**
 * Sets `fields[name]` to `value` when it has at most `max` characters; else
 * to its first `max - 1` characters and `…` (never half a surrogate pair),
 * and `fields[name + "_length"]` to the original length, so that a cut value
 * is visible and can be found.
 */
export function capField(
  fields: Fields,
  name: string,
  value: string,
  max: number,
): void {
  if (value.length <= max) {
    fields[name] = value;
    return;
  }
  let end = max - 1;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // a high surrogate
  fields[name] = value.slice(0, end) + "…";
  fields[name + "_length"] = value.length;
}

/**
 * Sets `fields.route`: the matched route pattern, else the request's path
 * cut to {@linkcode MAX_PATH_LENGTH} (see {@linkcode capField}).
 */
export function capRoute(fields: Fields, url: string): void {
  capField(fields, "route", getRoute() ?? requestPath(url), MAX_PATH_LENGTH);
}
