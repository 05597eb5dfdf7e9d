import { type Counter, CounterImpl, type CounterOptions } from "./counter.ts";
import { defaultFamilies } from "./default_metrics.ts";
import { type ExpositionFormat, type Family, render } from "./exposition.ts";
import { type Gauge, GaugeImpl, type GaugeOptions } from "./gauge.ts";
import {
  checkBuckets,
  durationBuckets,
  type Histogram,
  HistogramImpl,
  type HistogramOptions,
} from "./histogram.ts";
import {
  checkLabelNames,
  checkMetricName,
  checkPart,
  type MetricType,
  toNamespace,
} from "./names.ts";
import {
  type Summary,
  SUMMARY_DEFAULTS,
  SummaryImpl,
  type SummaryOptions,
} from "./summary.ts";
import type { MetricOptions } from "./types.ts";
import type { ServiceIdentity } from "@cqi/http";

/**
 * Options for {@linkcode createRegistry}.
 *
 * @example Usage
 * ```ts
 * import type { RegistryOptions } from "@cqi/metrics";
 *
 * const options: RegistryOptions = { service: { name: "cqpm" } };
 * ```
 */
export interface RegistryOptions {
  /**
   * Who the service is: its name, normalised to snake_case
   * (`order-service` becomes `order_service`), is the namespace unless
   * `namespace` says otherwise. One of the two is required.
   */
  service?: ServiceIdentity;
  /** The first part of every metric name. Default: the service name. */
  namespace?: string;
  /**
   * Include the process and runtime metrics (`process_*`, `nodejs_*`) in
   * the exposition. Default `true`.
   */
  defaultMetrics?: boolean;
}

/**
 * A service's metrics: the factories that register collectors, and the
 * exposition of everything registered. Every name is
 * `{namespace}_{subsystem}_{name}` and is checked when registered.
 * Registering the same definition again returns the collector already
 * registered; a different definition under a name in use throws.
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
 * placed.inc({ side: "buy" });
 * console.log(await registry.metrics());
 * // # HELP shop_orders_placed_total Orders placed.
 * // # TYPE shop_orders_placed_total counter
 * // shop_orders_placed_total{side="buy"} 1
 * ```
 */
export interface MetricsRegistry {
  /** The namespace every name starts with. */
  readonly namespace: string;
  /**
   * Registers a counter (its name ends in `_total`), or returns the one
   * registered with the same definition.
   *
   * @param options Name, help and label names.
   * @returns The counter.
   */
  counter<const L extends string = never>(
    options: CounterOptions<L>,
  ): Counter<L>;
  /**
   * Registers a gauge, or returns the one registered with the same
   * definition.
   *
   * @param options Name, help, label names and an optional `collect`.
   * @returns The gauge.
   */
  gauge<const L extends string = never>(options: GaugeOptions<L>): Gauge<L>;
  /**
   * Registers a histogram, or returns the one registered with the same
   * definition.
   *
   * @param options Name, help, label names and buckets.
   * @returns The histogram.
   */
  histogram<const L extends string = never>(
    options: HistogramOptions<L>,
  ): Histogram<L>;
  /**
   * Registers a summary, or returns the one registered with the same
   * definition.
   *
   * @param options Name, help, label names and quantiles.
   * @returns The summary.
   */
  summary<const L extends string = never>(
    options: SummaryOptions<L>,
  ): Summary<L>;
  /**
   * Collects every metric (running gauges' `collect` callbacks) and renders
   * the exposition.
   *
   * @param format `prometheus` (text 0.0.4, the default) or `openmetrics`.
   * @returns The exposition text.
   */
  metrics(format?: ExpositionFormat): Promise<string>;
}

interface Collector {
  collect(): Family | Promise<Family>;
}

interface Definition {
  type: MetricType;
  name: string;
  help: string;
  labelNames: readonly string[];
  /** What else shapes the series: buckets, quantiles. */
  shape: string;
  collect: unknown;
  collector: Collector;
}

/**
 * Creates a registry for one service. Prefer one per service, created at
 * start-up from its configuration and passed to what records metrics; CQI
 * never uses a hidden global registry.
 *
 * @example Usage
 * ```ts
 * import { createRegistry } from "@cqi/metrics";
 *
 * const registry = createRegistry({ service: { name: "order-service" } });
 * console.log(registry.namespace); // "order_service"
 * const text = await registry.metrics();
 * console.log(text.includes("process_cpu_seconds_total")); // true
 * ```
 *
 * @param options The service (or namespace), and whether to include process metrics.
 * @returns The registry.
 */
export function createRegistry(options: RegistryOptions): MetricsRegistry {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("createRegistry: options { service } are required");
  }
  const name = options.namespace ?? options.service?.name;
  if (name === undefined) {
    throw new TypeError(
      "createRegistry: service.name or namespace is required",
    );
  }
  return new RegistryImpl(
    toNamespace(name),
    options.defaultMetrics ?? true,
  );
}

class RegistryImpl implements MetricsRegistry {
  readonly namespace: string;
  readonly #defaults: boolean;
  readonly #definitions = new Map<string, Definition>();
  /** Every sample and family name in use, with the metric using it. */
  readonly #taken = new Map<string, string>();

  constructor(namespace: string, defaults: boolean) {
    this.namespace = namespace;
    this.#defaults = defaults;
  }

  counter<const L extends string = never>(
    options: CounterOptions<L>,
  ): Counter<L> {
    return this.#register(
      "counter",
      options,
      "",
      undefined,
      (name, labels) => new CounterImpl<L>(name, options.help, labels),
    );
  }

  gauge<const L extends string = never>(options: GaugeOptions<L>): Gauge<L> {
    if (
      options?.collect !== undefined && typeof options.collect !== "function"
    ) {
      throw new TypeError("metrics: collect must be a function");
    }
    return this.#register(
      "gauge",
      options,
      "",
      options?.collect,
      (name, labels) =>
        new GaugeImpl<L>(name, options.help, labels, options.collect),
    );
  }

  histogram<const L extends string = never>(
    options: HistogramOptions<L>,
  ): Histogram<L> {
    const buckets = options?.buckets ?? durationBuckets;
    return this.#register(
      "histogram",
      options,
      ` buckets [${buckets}]`,
      undefined,
      (name, labels) => {
        checkBuckets(name, buckets);
        return new HistogramImpl<L>(name, options.help, labels, [...buckets]);
      },
    );
  }

  summary<const L extends string = never>(
    options: SummaryOptions<L>,
  ): Summary<L> {
    const shape = ` quantiles [${
      options?.percentiles ?? SUMMARY_DEFAULTS.percentiles
    }] maxAge ${options?.maxAge ?? SUMMARY_DEFAULTS.maxAge} ageBuckets ${
      options?.ageBuckets ?? SUMMARY_DEFAULTS.ageBuckets
    }`;
    return this.#register(
      "summary",
      options,
      shape,
      undefined,
      (name, labels) => new SummaryImpl<L>(name, options.help, labels, options),
    );
  }

  async metrics(format: ExpositionFormat = "prometheus"): Promise<string> {
    if (format !== "prometheus" && format !== "openmetrics") {
      throw new TypeError(
        `metrics: format must be "prometheus" or "openmetrics", got ${
          JSON.stringify(format)
        }`,
      );
    }
    const families = await Promise.all(
      [...this.#definitions.values()].map((d) => d.collector.collect()),
    );
    if (this.#defaults) families.push(...await defaultFamilies());
    return render(families, format);
  }

  #register<C extends Collector>(
    type: MetricType,
    options: MetricOptions<string>,
    shape: string,
    collect: unknown,
    create: (name: string, labelNames: readonly string[]) => C,
  ): C {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `metrics: ${type} options { name, help } are required`,
      );
    }
    const { subsystem, name: own, help } = options;
    if (subsystem !== undefined) checkPart("subsystem", subsystem);
    checkPart("name", own);
    const name = [this.namespace, subsystem, own].filter(Boolean).join("_");
    checkMetricName(name, type);
    if (typeof help !== "string" || help.trim() === "") {
      throw new TypeError(`metrics: "${name}" needs a help text`);
    }
    checkLabelNames(name, options.labelNames ?? []);
    const labelNames = [...(options.labelNames ?? [])];
    const wanted = { type, name, help, labelNames, shape, collect };

    const existing = this.#definitions.get(name);
    if (existing !== undefined) {
      if (sameDefinition(existing, wanted)) return existing.collector as C;
      throw conflict(existing, wanted);
    }
    const names = sampleNames(type, name);
    for (const sample of names) {
      const owner = this.#taken.get(sample);
      if (owner !== undefined) {
        throw conflict(this.#definitions.get(owner)!, wanted, sample);
      }
    }
    const collector = create(name, labelNames);
    this.#definitions.set(name, { ...wanted, collector });
    for (const sample of names) this.#taken.set(sample, name);
    return collector;
  }
}

/** The names a family of this type uses in either format. */
function sampleNames(type: MetricType, name: string): string[] {
  switch (type) {
    case "counter": {
      const base = name.slice(0, -"_total".length);
      return [name, base, `${base}_created`];
    }
    case "gauge":
      return [name];
    case "histogram":
      return [
        name,
        `${name}_bucket`,
        `${name}_count`,
        `${name}_sum`,
        `${name}_created`,
      ];
    case "summary":
      return [name, `${name}_count`, `${name}_sum`, `${name}_created`];
  }
}

type Wanted = Omit<Definition, "collector">;

function sameDefinition(a: Wanted, b: Wanted): boolean {
  const labels = (d: Wanted) => [...d.labelNames].sort().join(",");
  return a.type === b.type && a.help === b.help && a.shape === b.shape &&
    labels(a) === labels(b) && a.collect === b.collect;
}

function describe(d: Wanted): string {
  return `${d.type} ${d.name}{${d.labelNames.join(",")}}${d.shape} ${
    JSON.stringify(d.help)
  }${d.collect === undefined ? "" : " with a collect callback"}`;
}

function conflict(existing: Wanted, wanted: Wanted, sample?: string): Error {
  const clash = sample === undefined || existing.name === wanted.name
    ? `"${wanted.name}" is already registered`
    : `"${sample}" is already used by "${existing.name}"`;
  return new TypeError(
    `metrics: ${clash} as ${describe(existing)}; cannot register ${
      describe(wanted)
    }`,
  );
}
