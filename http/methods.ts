/**
 * The HTTP request methods CQI names in telemetry: those the OpenTelemetry
 * HTTP semantic conventions know (RFC 9110's, PATCH, and QUERY). Metrics
 * label any other method `OTHER` and spans record it as `_OTHER`, so a
 * client cannot grow label or attribute values by inventing methods.
 * `@cqi/metrics` and `@cqi/tracing` both read this one list.
 *
 * @example Usage
 * ```ts
 * import { HTTP_METHODS } from "@cqi/http";
 *
 * const known = new Set<string>(HTTP_METHODS);
 * console.log(known.has("QUERY")); // true
 * console.log(known.has("PROPFIND")); // false
 * ```
 */
export const HTTP_METHODS: readonly string[] = Object.freeze([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
  "QUERY",
]);
