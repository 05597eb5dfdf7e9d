import { Summary as PromSummary } from "prom-client";
import { type Family, renderLabels, type Sample } from "./exposition.ts";
import { SeriesSet, startTimer } from "./series.ts";
import type { Labels, MetricOptions, WithLabels } from "./types.ts";

/**
 * Options for {@linkcode MetricsRegistry.summary}. Durations are
 * milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { SummaryOptions } from "@cqi/metrics";
 *
 * const options: SummaryOptions<never> = {
 *   name: "batch_size_bytes",
 *   help: "Size of the batches written.",
 *   percentiles: [0.5, 0.99],
 *   maxAge: 60_000,
 * };
 * ```
 *
 * @typeParam L The label names.
 */
export interface SummaryOptions<L extends string> extends MetricOptions<L> {
  /** The quantiles reported, each in (0, 1). Default `[0.5, 0.9, 0.99]`. */
  percentiles?: readonly number[];
  /** Milliseconds of observations the quantiles cover. Default 600 000 (10 min). */
  maxAge?: number;
  /** How many windows the `maxAge` slides in. Default 5. */
  ageBuckets?: number;
}

/**
 * One series of a {@linkcode Summary}.
 *
 * @example Usage
 * ```ts
 * import { createRegistry } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop", defaultMetrics: false });
 * const batches = registry.summary({
 *   name: "batch_size_bytes",
 *   help: "Size of the batches written.",
 *   labelNames: ["topic"],
 * }).labels({ topic: "orders" });
 * batches.observe(2048);
 * ```
 */
export interface SummarySeries {
  /**
   * Observes a value.
   *
   * @param value A finite number, in the metric's base unit.
   */
  observe(value: number): void;
  /**
   * Starts a timer; calling the returned function observes the seconds
   * elapsed and returns them.
   */
  startTimer(): () => number;
}

/**
 * A summary: quantiles over a sliding window, computed in the process
 * (they cannot be aggregated across instances: prefer a histogram unless
 * that is what you want).
 *
 * @example Usage
 * ```ts
 * import { createRegistry } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop", defaultMetrics: false });
 * const gc = registry.summary({
 *   name: "pause_duration_seconds",
 *   help: "Pauses of the worker loop.",
 * });
 * gc.observe(0.002);
 * ```
 *
 * @typeParam L The label names.
 */
export interface Summary<L extends string = never> {
  /** The full name. */
  readonly name: string;
  /**
   * Observes a value in the series of the given labels.
   *
   * @param args The labels (if the summary has any) and the value.
   */
  observe(...args: WithLabels<L, [value: number]>): void;
  /**
   * Returns the series of the given labels.
   *
   * @param labels One value per label name.
   */
  labels(labels: Labels<L>): SummarySeries;
  /**
   * Drops the series of the given labels from the exposition.
   *
   * @param labels One value per label name.
   */
  remove(labels: Labels<L>): void;
}

/** Defaults of the summary options. Internal. */
export const SUMMARY_DEFAULTS = {
  percentiles: [0.5, 0.9, 0.99],
  maxAge: 600_000,
  ageBuckets: 5,
} as const;

class SummarySeriesImpl implements SummarySeries {
  readonly #summary: PromSummary<string>;
  readonly #labels: Record<string, string>;
  readonly #name: string;

  constructor(
    name: string,
    summary: PromSummary<string>,
    labels: Record<string, string>,
  ) {
    this.#name = name;
    this.#summary = summary;
    this.#labels = labels;
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) {
      throw new RangeError(
        `metrics: summary "${this.#name}" observes finite numbers, got ${value}`,
      );
    }
    this.#summary.observe(this.#labels, value);
  }

  startTimer(): () => number {
    return startTimer((seconds) => this.observe(seconds));
  }
}

/**
 * The summary implementation: quantile estimation is prom-client's (a
 * t-digest over sliding windows). Internal.
 */
export class SummaryImpl<L extends string> implements Summary<L> {
  readonly name: string;
  readonly percentiles: readonly number[];
  readonly #help: string;
  readonly #labelNames: readonly string[];
  readonly #prom: PromSummary<string>;
  readonly #series: SeriesSet<SummarySeriesImpl>;

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    options: SummaryOptions<L>,
  ) {
    this.name = name;
    this.#help = help;
    this.#labelNames = labelNames;
    this.percentiles = options.percentiles ?? SUMMARY_DEFAULTS.percentiles;
    const maxAge = options.maxAge ?? SUMMARY_DEFAULTS.maxAge;
    const ageBuckets = options.ageBuckets ?? SUMMARY_DEFAULTS.ageBuckets;
    checkSummary(name, this.percentiles, maxAge, ageBuckets);
    this.#prom = new PromSummary({
      name,
      help,
      labelNames: [...labelNames],
      percentiles: [...this.percentiles],
      maxAgeSeconds: maxAge / 1000,
      ageBuckets,
      registers: [],
    });
    this.#series = new SeriesSet(
      name,
      labelNames,
      (_text, values) =>
        new SummarySeriesImpl(
          name,
          this.#prom,
          Object.fromEntries(labelNames.map((n, i) => [n, values[i]])),
        ),
    );
  }

  observe(...args: WithLabels<L, [value: number]>): void;
  observe(...args: unknown[]): void {
    if (typeof args[0] === "object" && args[0] !== null) {
      this.#series.get(args[0]).observe(args[1] as number);
    } else {
      this.#series.get(undefined).observe(args[0] as number);
    }
  }

  labels(labels: Labels<L>): SummarySeries {
    return this.#series.get(labels);
  }

  remove(labels: Labels<L>): void {
    const values = this.#labelNames.map((name) =>
      String((labels as Record<string, unknown>)[name])
    );
    this.#series.delete(labels);
    if (this.#labelNames.length > 0) {
      this.#prom.remove(
        Object.fromEntries(this.#labelNames.map((n, i) => [n, values[i]])),
      );
    } else this.#prom.reset();
  }

  async collect(): Promise<Family> {
    const data = await this.#prom.get();
    const samples: Sample[] = [];
    for (const value of data.values) {
      const labels = value.labels as Record<string, string | number>;
      const names = Object.keys(labels).filter((n) => n !== "quantile");
      if (labels.quantile !== undefined) names.push("quantile");
      samples.push({
        suffix: (value.metricName ?? this.name).slice(this.name.length),
        labels: renderLabels(names, names.map((n) => String(labels[n]))),
        value: value.value,
      });
    }
    return { name: this.name, help: this.#help, type: "summary", samples };
  }
}

function checkSummary(
  name: string,
  percentiles: readonly number[],
  maxAge: number,
  ageBuckets: number,
): void {
  if (
    !Array.isArray(percentiles) || percentiles.length === 0 ||
    !percentiles.every((p) => typeof p === "number" && p > 0 && p < 1)
  ) {
    throw new RangeError(
      `metrics: percentiles of "${name}" must be numbers between 0 and 1, got ${
        JSON.stringify(percentiles)
      }`,
    );
  }
  if (!(maxAge > 0 && Number.isFinite(maxAge))) {
    throw new RangeError(
      `metrics: maxAge of "${name}" must be milliseconds > 0, got ${maxAge}`,
    );
  }
  if (!Number.isInteger(ageBuckets) || ageBuckets < 1) {
    throw new RangeError(
      `metrics: ageBuckets of "${name}" must be an integer >= 1, got ${ageBuckets}`,
    );
  }
}
