// The Retry-After header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
// Internal: createHttpClient reads it from 429 and 503 answers.

const SECONDS = /^\d+$/;
// IMF-fixdate, RFC 850 and asctime, the three forms of an HTTP-date.
const HTTP_DATE = new RegExp(
  "^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT" +
    "|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{2}-[A-Z][a-z]{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} GMT" +
    "|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} \\d{4})$",
);
const MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";

/**
 * The milliseconds a `Retry-After` value asks to wait, at most `cap`:
 * `"120"` is 120,000 ms, an HTTP-date is its distance from `now` (0 when it
 * has passed). Anything else (empty, negative, fractional, a date that does
 * not exist, over 200 characters) is `undefined`: the caller falls back to
 * its backoff.
 */
export function parseRetryAfter(
  value: string | null,
  now: number,
  cap: number,
): number | undefined {
  if (value === null || value.length > 200) return undefined;
  const text = value.trim();
  if (SECONDS.test(text)) return Math.min(Number(text) * 1_000, cap);
  if (!HTTP_DATE.test(text)) return undefined;
  const at = parseHttpDate(text);
  if (at === undefined) return undefined;
  return Math.min(Math.max(0, at - now), cap);
}

function parseHttpDate(text: string): number | undefined {
  let day: string, month: string, year: string, time: string;
  const parts = text.split(/[ -]+/);
  if (text.endsWith("GMT") && text.includes("-")) {
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT; two-digit years within 50
    // years of now (RFC 9110 §5.6.7), taken here as 1970-2069.
    [, day, month, year, time] = parts;
    year = String(Number(year) + (Number(year) < 70 ? 2000 : 1900));
  } else if (text.endsWith("GMT")) {
    [, day, month, year, time] = parts; // Sun, 06 Nov 1994 08:49:37 GMT
  } else {
    [, month, day, time, year] = parts; // Sun Nov  6 08:49:37 1994
  }
  const m = MONTHS.indexOf(month);
  if (m < 0 || m % 3 !== 0) return undefined;
  const [h, min, s] = time.split(":").map(Number);
  const d = Number(day);
  const at = Date.UTC(Number(year), m / 3, d, h, min, s);
  const check = new Date(at);
  // Reject dates that roll over (31 Feb) and times past 23:59:60.
  if (check.getUTCDate() !== d || h > 23 || min > 59 || s > 60) {
    return undefined;
  }
  return at;
}
