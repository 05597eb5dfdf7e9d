// Naming rules, checked when a metric is registered. They are those of
// `promtool check metrics` (client_golang's promlint) plus snake_case, so
// that what registers always passes the linter.

/** A lowercase snake_case word: `http_request`, never `__x`, `a__b` or `x_`. */
const SNAKE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

/** Unit words that are not base units, with the base unit to use instead. */
const NON_BASE_UNITS: Readonly<Record<string, string>> = {
  milliseconds: "seconds",
  microseconds: "seconds",
  nanoseconds: "seconds",
  minutes: "seconds",
  hours: "seconds",
  days: "seconds",
  weeks: "seconds",
  bits: "bytes",
  kilobytes: "bytes",
  megabytes: "bytes",
  gigabytes: "bytes",
  terabytes: "bytes",
  kibibytes: "bytes",
  mebibytes: "bytes",
  gibibytes: "bytes",
  percent: "ratio",
  percentage: "ratio",
};

/** Abbreviated units that promlint rejects as name words. */
const ABBREVIATIONS = new Set([
  "s",
  "ms",
  "us",
  "ns",
  "sec",
  "secs",
  "b",
  "kb",
  "mb",
  "gb",
  "tb",
  "pb",
  "m",
  "h",
  "d",
]);

/** Words naming a metric type, which promlint rejects in names. */
const TYPE_WORDS = new Set(["counter", "gauge", "histogram", "summary"]);

/** Suffixes that the exposition formats give to samples of other types. */
const RESERVED_SUFFIXES = ["_bucket", "_count", "_sum", "_created", "_total"];

/** Label names that must not be declared. */
const RESERVED_LABELS: Readonly<Record<string, string>> = {
  le: "it holds histogram bucket bounds",
  quantile: "it holds summary quantiles",
  job: "Prometheus sets it at scrape time",
  instance: "Prometheus sets it at scrape time",
};

/** The kinds of collectors. */
export type MetricType = "counter" | "gauge" | "histogram" | "summary";

/**
 * Turns a service name into a metric namespace: lowercase, with every run
 * of characters other than letters and digits replaced by `_`
 * (`Order-Service` becomes `order_service`).
 */
export function toNamespace(name: string): string {
  const namespace = String(name).toLowerCase().replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (!SNAKE.test(namespace)) {
    throw new TypeError(
      `createRegistry: namespace ${
        JSON.stringify(name)
      } does not make a metric namespace (it needs a letter first, then letters, digits or _)`,
    );
  }
  return namespace;
}

/** Checks one part of a metric name (subsystem or name) is snake_case. */
export function checkPart(what: string, value: string): void {
  if (typeof value !== "string" || !SNAKE.test(value)) {
    throw new TypeError(
      `metrics: ${what} ${
        JSON.stringify(value)
      } is not snake_case (lowercase letters, digits and single _, starting with a letter)`,
    );
  }
}

/**
 * Checks a full metric name against the type-specific rules: counters end
 * in `_total`, other types do not and avoid the suffixes their samples get;
 * units are base units, spelled out; type words stay out of names.
 */
export function checkMetricName(name: string, type: MetricType): void {
  const fail = (why: string): never => {
    throw new TypeError(`metrics: ${type} name "${name}" ${why}`);
  };
  if (type === "counter") {
    if (!name.endsWith("_total")) fail('must end in "_total"');
  } else {
    for (const suffix of RESERVED_SUFFIXES) {
      if (name.endsWith(suffix)) {
        fail(
          `must not end in "${suffix}" (${
            suffix === "_total"
              ? "only counters do"
              : "the exposition formats reserve it"
          })`,
        );
      }
    }
  }
  for (const word of name.split("_")) {
    const base = NON_BASE_UNITS[word];
    if (base !== undefined) {
      fail(`must use the base unit "${base}", not "${word}"`);
    }
    if (ABBREVIATIONS.has(word)) {
      fail(`must spell out its unit, not abbreviate it as "${word}"`);
    }
    if (TYPE_WORDS.has(word)) {
      fail(`must not name a metric type ("${word}")`);
    }
  }
}

/** Checks label names: snake_case, not reserved, not repeated. */
export function checkLabelNames(
  metric: string,
  names: readonly string[],
): void {
  if (!Array.isArray(names)) {
    throw new TypeError(`metrics: labelNames of "${metric}" must be an array`);
  }
  const seen = new Set<string>();
  for (const name of names) {
    checkLabelName(`label name of "${metric}"`, name);
    const reserved = RESERVED_LABELS[name];
    if (reserved !== undefined) {
      throw new TypeError(
        `metrics: label name "${name}" of "${metric}" is reserved: ${reserved}`,
      );
    }
    if (seen.has(name)) {
      throw new TypeError(
        `metrics: label name "${name}" of "${metric}" is declared twice`,
      );
    }
    seen.add(name);
  }
}

/** Checks one label name (also used for exemplar labels). */
export function checkLabelName(what: string, name: string): void {
  if (typeof name !== "string" || !SNAKE.test(name)) {
    throw new TypeError(
      `metrics: ${what} ${
        JSON.stringify(name)
      } is not snake_case (lowercase letters, digits and single _, starting with a letter)`,
    );
  }
}

/** The OpenMetrics unit a family's name ends with, if any. */
export function unitOf(familyName: string): string | undefined {
  if (familyName.endsWith("_seconds")) return "seconds";
  if (familyName.endsWith("_bytes")) return "bytes";
  return undefined;
}
