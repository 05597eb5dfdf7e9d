// Test helpers: read samples back from an exposition. Not published.

/** One sample line: name, labels and value (exemplars dropped). */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the sample lines of a Prometheus text or OpenMetrics exposition. */
export function parse(text: string): ParsedSample[] {
  const samples: ParsedSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (
      const pair of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)
    ) {
      labels[pair[1]] = pair[2].replace(
        /\\(.)/g,
        (_, c) => c === "n" ? "\n" : c,
      );
    }
    const value = match[3] === "+Inf"
      ? Infinity
      : match[3] === "-Inf"
      ? -Infinity
      : Number(match[3]);
    samples.push({ name: match[1], labels, value });
  }
  return samples;
}

/** The samples of `name` whose labels include all of `labels`. */
export function find(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): ParsedSample[] {
  return parse(text).filter((s) =>
    s.name === name &&
    Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
}

/** The value of the one sample of `name` with exactly these labels. */
export function value(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const keys = Object.keys(labels);
  const found = find(text, name, labels).filter((s) =>
    Object.keys(s.labels).length === keys.length
  );
  if (found.length > 1) throw new Error(`several samples of ${name}`);
  return found[0]?.value;
}
