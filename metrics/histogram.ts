import {
  addLabel,
  type ExemplarValue,
  type Family,
  formatValue,
  type Sample,
} from "./exposition.ts";
import { exemplarOf, SeriesSet, startTimer } from "./series.ts";
import type {
  ExemplarLabels,
  Labels,
  MetricOptions,
  WithLabels,
} from "./types.ts";

/**
 * Bucket upper bounds in seconds for a fast service: from 100 µs to 10 s,
 * roughly ×2.5 apart. The default of histograms and of `httpMetrics`.
 *
 * @example Usage
 * ```ts
 * import { durationBuckets } from "@cqi/metrics";
 *
 * console.log(durationBuckets[0]); // 0.0001
 * ```
 */
export const durationBuckets: readonly number[] = Object.freeze([
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
]);

/**
 * Bucket upper bounds in bytes for message sizes: 64 B to 16 MiB, ×4
 * apart. The size histograms of `httpMetrics` use them.
 *
 * @example Usage
 * ```ts
 * import { sizeBuckets } from "@cqi/metrics";
 *
 * console.log(sizeBuckets.at(-1)); // 16777216
 * ```
 */
export const sizeBuckets: readonly number[] = Object.freeze([
  64,
  256,
  1024,
  4096,
  16384,
  65536,
  262144,
  1048576,
  4194304,
  16777216,
]);

/**
 * Options for {@linkcode MetricsRegistry.histogram}.
 *
 * @example Usage
 * ```ts
 * import { type HistogramOptions, sizeBuckets } from "@cqi/metrics";
 *
 * const options: HistogramOptions<never> = {
 *   name: "upload_size_bytes",
 *   help: "Size of uploaded files.",
 *   buckets: sizeBuckets,
 * };
 * ```
 *
 * @typeParam L The label names.
 */
export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /**
   * Increasing, finite bucket upper bounds (`+Inf` is implied). Default
   * {@linkcode durationBuckets}.
   */
  buckets?: readonly number[];
}

/**
 * One series of a {@linkcode Histogram}.
 *
 * @example Usage
 * ```ts
 * import { createRegistry } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop", defaultMetrics: false });
 * const quotes = registry.histogram({
 *   name: "quote_duration_seconds",
 *   help: "Time to get a quote.",
 *   labelNames: ["venue"],
 * }).labels({ venue: "xnas" });
 * const done = quotes.startTimer();
 * done(); // observes the seconds since startTimer
 * console.log(quotes.count); // 1
 * ```
 */
export interface HistogramSeries {
  /** How many values were observed. */
  readonly count: number;
  /** The sum of the observed values. */
  readonly sum: number;
  /**
   * Observes a value.
   *
   * @param value A finite number, in the metric's base unit.
   * @param exemplar Labels of an exemplar, such as a trace id.
   */
  observe(value: number, exemplar?: ExemplarLabels): void;
  /**
   * Starts a timer; calling the returned function observes the seconds
   * elapsed and returns them.
   */
  startTimer(): () => number;
}

/**
 * A histogram: counts observations (durations, sizes) into buckets per
 * label set, so quantiles can be computed across instances in PromQL.
 *
 * @example Usage
 * ```ts
 * import { createRegistry } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop", defaultMetrics: false });
 * const latency = registry.histogram({
 *   subsystem: "db",
 *   name: "query_duration_seconds",
 *   help: "Database query latency.",
 *   labelNames: ["query"],
 * });
 * latency.observe({ query: "find_order" }, 0.0042);
 * ```
 *
 * @typeParam L The label names.
 */
export interface Histogram<L extends string = never> {
  /** The full name. */
  readonly name: string;
  /**
   * Observes a value in the series of the given labels.
   *
   * @param args The labels (if the histogram has any), the value, and
   * optionally exemplar labels.
   */
  observe(
    ...args: WithLabels<L, [value: number, exemplar?: ExemplarLabels]>
  ): void;
  /**
   * Returns the series of the given labels, to record into without a
   * lookup.
   *
   * @param labels One value per label name.
   */
  labels(labels: Labels<L>): HistogramSeries;
  /**
   * Drops the series of the given labels from the exposition.
   *
   * @param labels One value per label name.
   */
  remove(labels: Labels<L>): void;
}

class HistogramSeriesImpl implements HistogramSeries {
  count = 0;
  sum = 0;
  /** Per-bucket counts (not cumulative); the last one is `+Inf`. */
  readonly counts: Float64Array;
  /** The latest exemplar per bucket, if any. */
  exemplars: Array<ExemplarValue | undefined> | undefined;
  readonly labelText: string;
  readonly #bounds: readonly number[];
  readonly #name: string;

  constructor(name: string, bounds: readonly number[], labelText: string) {
    this.#name = name;
    this.#bounds = bounds;
    this.labelText = labelText;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number, exemplar?: ExemplarLabels): void {
    if (!Number.isFinite(value)) {
      throw new RangeError(
        `metrics: histogram "${this.#name}" observes finite numbers, got ${value}`,
      );
    }
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.count++;
    this.sum += value;
    if (exemplar !== undefined) {
      (this.exemplars ??= [])[i] = exemplarOf(exemplar, value);
    }
  }

  startTimer(): () => number {
    return startTimer((seconds) => this.observe(seconds));
  }
}

/** The histogram implementation. Internal. */
export class HistogramImpl<L extends string> implements Histogram<L> {
  readonly name: string;
  readonly buckets: readonly number[];
  readonly #help: string;
  readonly #series: SeriesSet<HistogramSeriesImpl>;
  readonly #le: string[];

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ) {
    this.name = name;
    this.#help = help;
    this.buckets = buckets;
    this.#le = [...buckets.map(formatValue), "+Inf"];
    this.#series = new SeriesSet(
      name,
      labelNames,
      (labels) => new HistogramSeriesImpl(name, buckets, labels),
    );
    if (labelNames.length === 0) this.#series.get(undefined);
  }

  observe(
    ...args: WithLabels<L, [value: number, exemplar?: ExemplarLabels]>
  ): void;
  observe(...args: unknown[]): void {
    if (typeof args[0] === "object" && args[0] !== null) {
      this.#series.get(args[0]).observe(
        args[1] as number,
        args[2] as ExemplarLabels | undefined,
      );
    } else {
      this.#series.get(undefined).observe(
        args[0] as number,
        args[1] as ExemplarLabels | undefined,
      );
    }
  }

  labels(labels: Labels<L>): HistogramSeries {
    return this.#series.get(labels);
  }

  remove(labels: Labels<L>): void {
    this.#series.delete(labels);
  }

  collect(): Family {
    const samples: Sample[] = [];
    const le = this.#le;
    for (const series of this.#series.all) {
      let cumulative = 0;
      for (let i = 0; i < le.length; i++) {
        cumulative += series.counts[i];
        samples.push({
          suffix: "_bucket",
          labels: addLabel(series.labelText, "le", le[i]),
          value: cumulative,
          exemplar: series.exemplars?.[i],
        });
      }
      samples.push({
        suffix: "_sum",
        labels: series.labelText,
        value: series.sum,
      });
      samples.push({
        suffix: "_count",
        labels: series.labelText,
        value: series.count,
      });
    }
    return { name: this.name, help: this.#help, type: "histogram", samples };
  }
}

/** Checks bucket bounds: a non-empty, increasing list of finite numbers. */
export function checkBuckets(name: string, buckets: readonly number[]): void {
  const ok = Array.isArray(buckets) && buckets.length > 0 &&
    buckets.every((b, i) =>
      typeof b === "number" && Number.isFinite(b) &&
      (i === 0 || b > buckets[i - 1])
    );
  if (!ok) {
    throw new RangeError(
      `metrics: buckets of "${name}" must be a non-empty list of increasing finite numbers (+Inf is implied), got ${
        JSON.stringify(buckets)
      }`,
    );
  }
}
