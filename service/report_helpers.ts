// What the hooks of service share: one lookup per label set, and a log
// throttle. Internal (not exported by mod.ts).
import type { CounterSeries, GaugeSeries, HistogramSeries } from "@cqi/metrics";
import type { Clock } from "@cqi/retry";

type Series = CounterSeries | HistogramSeries | GaugeSeries;

/** At most one line of a kind in this many milliseconds. */
export const LOG_INTERVAL = 10_000;

/**
 * Each series looked up once (the label set of each observation would
 * otherwise be rebuilt and hashed every time): `cached(key, make)`.
 */
export function seriesCache(): <S extends Series>(
  key: string,
  make: () => S,
) => S {
  const series = new Map<string, Series>();
  return <S extends Series>(key: string, make: () => S): S => {
    let found = series.get(key) as S | undefined;
    if (found === undefined) {
      found = make();
      series.set(key, found);
    }
    return found;
  };
}

/**
 * Whether a line of `key` may be written now: `undefined` when one was in
 * the last {@linkcode LOG_INTERVAL} (counted as suppressed), else how many
 * were suppressed since the last one.
 */
export function throttle(clock: Clock): (key: string) => number | undefined {
  const logged = new Map<string, { at: number; suppressed: number }>();
  return (key) => {
    const now = clock.now();
    const last = logged.get(key);
    if (last !== undefined && now - last.at < LOG_INTERVAL) {
      last.suppressed++;
      return undefined;
    }
    logged.set(key, { at: now, suppressed: 0 });
    return last?.suppressed ?? 0;
  };
}
