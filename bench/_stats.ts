// Summaries the in-process benchmarks share.

/** The median of `values` (the upper one of an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** "12.3 (11.9–14.0)": the median and range of `values`, scaled. */
export function spread(
  values: number[],
  scale: number,
  digits: number,
): string {
  const f = (v: number) =>
    (v / scale).toLocaleString("en", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  return `${f(median(values))} (${f(Math.min(...values))}–${
    f(Math.max(...values))
  })`;
}

/** The median (range) over rounds of `values[i] / base[i]`. */
export function ratio(values: number[], base: number[], bold = false): string {
  const ratios = values.map((v, i) => v / base[i]);
  const m = `${median(ratios).toFixed(2)}×`;
  return `${bold ? `**${m}**` : m} (${Math.min(...ratios).toFixed(2)}–${
    Math.max(...ratios).toFixed(2)
  })`;
}
