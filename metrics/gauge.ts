import type { Family } from "./exposition.ts";
import { SeriesSet } from "./series.ts";
import type { Labels, MetricOptions, WithLabels } from "./types.ts";

/**
 * Options for {@linkcode MetricsRegistry.gauge}.
 *
 * @example Usage
 * ```ts
 * import type { GaugeOptions } from "@cqi/metrics";
 *
 * const options: GaugeOptions<never> = {
 *   name: "queue_depth",
 *   help: "Jobs waiting in the queue.",
 *   collect: (gauge) => gauge.set(42),
 * };
 * ```
 *
 * @typeParam L The label names.
 */
export interface GaugeOptions<L extends string> extends MetricOptions<L> {
  /**
   * Called before every scrape to set the gauge from its source (a pool's
   * size, a queue's depth). A failing callback fails the scrape.
   */
  collect?: (gauge: Gauge<L>) => void | Promise<void>;
}

/**
 * One series of a {@linkcode Gauge}: a value that goes up and down.
 *
 * @example Usage
 * ```ts
 * import { createRegistry } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop", defaultMetrics: false });
 * const open = registry.gauge({
 *   name: "connections_open",
 *   help: "Open connections.",
 *   labelNames: ["pool"],
 * }).labels({ pool: "main" });
 * open.inc();
 * open.dec();
 * console.log(open.value); // 0
 * ```
 */
export interface GaugeSeries {
  /** The current value. */
  readonly value: number;
  /**
   * Adds `value` (default 1).
   *
   * @param value The amount.
   */
  inc(value?: number): void;
  /**
   * Subtracts `value` (default 1).
   *
   * @param value The amount.
   */
  dec(value?: number): void;
  /**
   * Sets the value.
   *
   * @param value The new value.
   */
  set(value: number): void;
}

/**
 * A gauge: a value per label set that goes up and down (requests in
 * flight, queue depth), or is set from its source before each scrape.
 *
 * @example Usage
 * ```ts
 * import { createRegistry } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop", defaultMetrics: false });
 * const inFlight = registry.gauge({
 *   name: "jobs_running",
 *   help: "Jobs running now.",
 *   labelNames: ["queue"],
 * });
 * inFlight.inc({ queue: "mail" });
 * inFlight.set({ queue: "sms" }, 3);
 * ```
 *
 * @typeParam L The label names.
 */
export interface Gauge<L extends string = never> {
  /** The full name. */
  readonly name: string;
  /**
   * Adds to the series of the given labels (default 1).
   *
   * @param args The labels (if the gauge has any) and the amount.
   */
  inc(...args: WithLabels<L, [value?: number]>): void;
  /**
   * Subtracts from the series of the given labels (default 1).
   *
   * @param args The labels (if the gauge has any) and the amount.
   */
  dec(...args: WithLabels<L, [value?: number]>): void;
  /**
   * Sets the series of the given labels.
   *
   * @param args The labels (if the gauge has any) and the value.
   */
  set(...args: WithLabels<L, [value: number]>): void;
  /**
   * Returns the series of the given labels, to record into without a
   * lookup.
   *
   * @param labels One value per label name.
   */
  labels(labels: Labels<L>): GaugeSeries;
  /**
   * Drops the series of the given labels from the exposition.
   *
   * @param labels One value per label name.
   */
  remove(labels: Labels<L>): void;
}

class GaugeSeriesImpl implements GaugeSeries {
  value = 0;
  readonly labelText: string;
  readonly #name: string;

  constructor(name: string, labelText: string) {
    this.#name = name;
    this.labelText = labelText;
  }

  inc(value = 1): void {
    this.set(this.value + value);
  }

  dec(value = 1): void {
    this.set(this.value - value);
  }

  set(value: number): void {
    if (typeof value !== "number") {
      throw new TypeError(
        `metrics: gauge "${this.#name}" takes numbers, got ${typeof value}`,
      );
    }
    this.value = value;
  }
}

/** The gauge implementation. Internal. */
export class GaugeImpl<L extends string> implements Gauge<L> {
  readonly name: string;
  readonly collectFn: GaugeOptions<L>["collect"];
  readonly #help: string;
  readonly #series: SeriesSet<GaugeSeriesImpl>;

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    collect: GaugeOptions<L>["collect"],
  ) {
    this.name = name;
    this.#help = help;
    this.collectFn = collect;
    this.#series = new SeriesSet(
      name,
      labelNames,
      (labels) => new GaugeSeriesImpl(name, labels),
    );
    if (labelNames.length === 0) this.#series.get(undefined);
  }

  inc(...args: WithLabels<L, [value?: number]>): void;
  inc(...args: unknown[]): void {
    const [series, value] = this.#resolve(args);
    series.inc(value);
  }

  dec(...args: WithLabels<L, [value?: number]>): void;
  dec(...args: unknown[]): void {
    const [series, value] = this.#resolve(args);
    series.dec(value);
  }

  set(...args: WithLabels<L, [value: number]>): void;
  set(...args: unknown[]): void {
    const [series, value] = this.#resolve(args);
    series.set(value as number);
  }

  labels(labels: Labels<L>): GaugeSeries {
    return this.#series.get(labels);
  }

  remove(labels: Labels<L>): void {
    this.#series.delete(labels);
  }

  async collect(): Promise<Family> {
    if (this.collectFn !== undefined) await this.collectFn(this);
    const samples = [];
    for (const series of this.#series.all) {
      samples.push({
        suffix: "",
        labels: series.labelText,
        value: series.value,
      });
    }
    return { name: this.name, help: this.#help, type: "gauge", samples };
  }

  #resolve(args: unknown[]): [GaugeSeriesImpl, number | undefined] {
    return typeof args[0] === "object" && args[0] !== null
      ? [this.#series.get(args[0]), args[1] as number | undefined]
      : [this.#series.get(undefined), args[0] as number | undefined];
  }
}
