// JSON string quoting, fast for the common case: a string without quotes,
// backslashes, control characters or surrogates is wrapped as it is; any
// other goes through JSON.stringify, which escapes it correctly (lone
// surrogates included).
// deno-lint-ignore no-control-regex -- control characters must be escaped
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Returns `s` as a JSON string literal. */
export function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}
