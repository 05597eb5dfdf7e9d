// RFC 3339 timestamps with milliseconds, cached: the date-and-seconds part is
// formatted once a second, and a repeated millisecond returns the same string.
const MILLIS: string[] = Array.from(
  { length: 1000 },
  (_, i) => String(i).padStart(3, "0"),
);
let second = NaN;
let prefix = "";
let lastMs = NaN;
let last = "";

/** Formats epoch milliseconds as `2026-01-02T03:04:05.678Z`. */
export function timestamp(ms: number): string {
  if (ms === lastMs) return last;
  const s = Math.floor(ms / 1000);
  if (s !== second) {
    second = s;
    prefix = new Date(s * 1000).toISOString().slice(0, 20);
  }
  lastMs = ms;
  last = prefix + MILLIS[Math.floor(ms) - s * 1000] + "Z";
  return last;
}
