/**
 * A label value: a string, or a number written in decimal.
 *
 * @example Usage
 * ```ts
 * import type { LabelValue } from "@cqi/metrics";
 *
 * const status: LabelValue = 200;
 * ```
 */
export type LabelValue = string | number;

/**
 * The label values of one series, keyed by the metric's declared label
 * names: every name is required and no other is accepted, so a misspelled
 * label is a type error.
 *
 * @example Usage
 * ```ts
 * import type { Labels } from "@cqi/metrics";
 *
 * const labels: Labels<"side" | "venue"> = { side: "buy", venue: "xnas" };
 * ```
 *
 * @typeParam L The label names.
 */
export type Labels<L extends string> = { readonly [K in L]: LabelValue };

/**
 * Exemplar labels attached to an observation, such as the trace it came
 * from (`{ trace_id, span_id }`). Only the OpenMetrics format carries them;
 * names and values together are at most 128 characters.
 *
 * @example Usage
 * ```ts
 * import type { ExemplarLabels } from "@cqi/metrics";
 *
 * const exemplar: ExemplarLabels = { trace_id: "4bf92f3577b34da6" };
 * ```
 */
export type ExemplarLabels = Readonly<Record<string, string>>;

/**
 * Options every collector takes. The full name is
 * `{namespace}_{subsystem}_{name}`; each part is snake_case.
 *
 * @example Usage
 * ```ts
 * import type { MetricOptions } from "@cqi/metrics";
 *
 * const options: MetricOptions<"side"> = {
 *   subsystem: "orders",
 *   name: "placed_total",
 *   help: "Orders placed.",
 *   labelNames: ["side"],
 * };
 * ```
 *
 * @typeParam L The label names.
 */
export interface MetricOptions<L extends string> {
  /** The metric's own name, after namespace and subsystem. */
  name: string;
  /** What the metric measures, in one sentence. Required. */
  help: string;
  /** A group within the service, such as `http` or `orders`. */
  subsystem?: string;
  /** The label names (snake_case); `le`, `quantile`, `job`, `instance` are reserved. */
  labelNames?: readonly L[];
}

/**
 * Picks the argument list of a recording method: without labels the value
 * comes first, with labels the label values do.
 *
 * @example Usage
 * ```ts
 * import type { WithLabels } from "@cqi/metrics";
 *
 * const args: WithLabels<"side", [value?: number]> = [{ side: "buy" }, 2];
 * ```
 *
 * @typeParam L The label names.
 * @typeParam Rest The arguments after the labels.
 */
export type WithLabels<L extends string, Rest extends unknown[]> = [L] extends
  [never] ? Rest : [labels: Labels<L>, ...Rest];
