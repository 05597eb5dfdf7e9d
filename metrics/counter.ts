import type { ExemplarValue, Family } from "./exposition.ts";
import { exemplarOf, SeriesSet } from "./series.ts";
import type {
  ExemplarLabels,
  Labels,
  MetricOptions,
  WithLabels,
} from "./types.ts";

/**
 * Options for {@linkcode MetricsRegistry.counter}. The name ends in
 * `_total`.
 *
 * @example Usage
 * ```ts
 * import type { CounterOptions } from "@cqi/metrics";
 *
 * const options: CounterOptions<"side"> = {
 *   name: "orders_placed_total",
 *   help: "Orders placed.",
 *   labelNames: ["side"],
 * };
 * ```
 *
 * @typeParam L The label names.
 */
export type CounterOptions<L extends string> = MetricOptions<L>;

/**
 * One series of a {@linkcode Counter}: a value that only goes up.
 *
 * @example Usage
 * ```ts
 * import { createRegistry } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop", defaultMetrics: false });
 * const placed = registry.counter({
 *   name: "orders_placed_total",
 *   help: "Orders placed.",
 *   labelNames: ["side"],
 * });
 * const buys = placed.labels({ side: "buy" }); // keep it: no lookup per call
 * buys.inc();
 * console.log(buys.value); // 1
 * ```
 */
export interface CounterSeries {
  /** The current value. */
  readonly value: number;
  /**
   * Adds `value` (default 1; never negative).
   *
   * @param value The amount.
   * @param exemplar Labels of an exemplar, such as a trace id.
   */
  inc(value?: number, exemplar?: ExemplarLabels): void;
}

/**
 * A counter: a value per label set that only goes up (requests served,
 * errors seen). Reset only by a process restart.
 *
 * @example Usage
 * ```ts
 * import { createRegistry } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop", defaultMetrics: false });
 * const placed = registry.counter({
 *   subsystem: "orders",
 *   name: "placed_total",
 *   help: "Orders placed.",
 *   labelNames: ["side"],
 * });
 * placed.inc({ side: "buy" });
 * placed.inc({ side: "sell" }, 2);
 * console.log(placed.name); // "shop_orders_placed_total"
 * ```
 *
 * @typeParam L The label names.
 */
export interface Counter<L extends string = never> {
  /** The full name. */
  readonly name: string;
  /**
   * Adds to the series of the given labels (default 1; never negative).
   *
   * @param args The labels (if the counter has any), the amount, and
   * optionally exemplar labels.
   */
  inc(
    ...args: WithLabels<L, [value?: number, exemplar?: ExemplarLabels]>
  ): void;
  /**
   * Returns the series of the given labels, to record into without a
   * lookup.
   *
   * @param labels One value per label name.
   */
  labels(labels: Labels<L>): CounterSeries;
  /**
   * Drops the series of the given labels from the exposition.
   *
   * @param labels One value per label name.
   */
  remove(labels: Labels<L>): void;
}

class CounterSeriesImpl implements CounterSeries {
  value = 0;
  exemplar: ExemplarValue | undefined;
  readonly labelText: string;
  readonly #name: string;

  constructor(name: string, labelText: string) {
    this.#name = name;
    this.labelText = labelText;
  }

  inc(value = 1, exemplar?: ExemplarLabels): void {
    if (!(value >= 0 && value !== Infinity)) {
      throw new RangeError(
        `metrics: counter "${this.#name}" can only grow by a finite amount >= 0, got ${value}`,
      );
    }
    this.value += value;
    if (exemplar !== undefined) this.exemplar = exemplarOf(exemplar, value);
  }
}

/** The counter implementation. Internal. */
export class CounterImpl<L extends string> implements Counter<L> {
  readonly name: string;
  readonly #help: string;
  readonly #series: SeriesSet<CounterSeriesImpl>;

  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.#help = help;
    this.#series = new SeriesSet(
      name,
      labelNames,
      (labels) => new CounterSeriesImpl(name, labels),
    );
    if (labelNames.length === 0) this.#series.get(undefined);
  }

  inc(
    ...args: WithLabels<L, [value?: number, exemplar?: ExemplarLabels]>
  ): void;
  inc(...args: unknown[]): void {
    if (typeof args[0] === "object" && args[0] !== null) {
      this.#series.get(args[0]).inc(
        args[1] as number | undefined,
        args[2] as ExemplarLabels | undefined,
      );
    } else {
      this.#series.get(undefined).inc(
        args[0] as number | undefined,
        args[1] as ExemplarLabels | undefined,
      );
    }
  }

  labels(labels: Labels<L>): CounterSeries {
    return this.#series.get(labels);
  }

  remove(labels: Labels<L>): void {
    this.#series.delete(labels);
  }

  collect(): Family {
    const samples = [];
    for (const series of this.#series.all) {
      samples.push({
        suffix: "",
        labels: series.labelText,
        value: series.value,
        exemplar: series.exemplar,
      });
    }
    return { name: this.name, help: this.#help, type: "counter", samples };
  }
}
