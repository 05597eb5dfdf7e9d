// The two exposition formats, rendered from one set of families: the
// Prometheus text format 0.0.4 and OpenMetrics 1.0.0.
import { unitOf } from "./names.ts";

/**
 * An exposition format: the Prometheus text format (version 0.0.4) or
 * OpenMetrics (version 1.0.0, which adds exemplars and units).
 *
 * @example Usage
 * ```ts
 * import type { ExpositionFormat } from "@cqi/metrics";
 *
 * const format: ExpositionFormat = "openmetrics";
 * ```
 */
export type ExpositionFormat = "prometheus" | "openmetrics";

/** The Content-Type of each format. */
export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  prometheus: "text/plain; version=0.0.4; charset=utf-8",
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

/** An exemplar: labels (such as a trace id), the value, when (seconds). */
export interface ExemplarValue {
  /** Rendered labels, without braces. */
  labels: string;
  value: number;
  timestamp: number;
}

/** One sample line of a family. */
export interface Sample {
  /** Appended to the family name: `""`, `_bucket`, `_sum`, `_count`. */
  suffix: string;
  /** Rendered labels without braces (`a="1",b="2"`), or `""`. */
  labels: string;
  value: number;
  exemplar?: ExemplarValue;
}

/** A metric family: its metadata and samples. */
export interface Family {
  /** The name as registered (counters include `_total`). */
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram" | "summary";
  samples: Sample[];
}

/** Renders families in the given format. */
export function render(families: Family[], format: ExpositionFormat): string {
  const open = format === "openmetrics";
  const lines: string[] = [];
  for (const family of families) {
    const base = open && family.type === "counter"
      ? family.name.replace(/_total$/, "")
      : family.name;
    lines.push(`# HELP ${base} ${escapeHelp(family.help, open)}`);
    lines.push(`# TYPE ${base} ${family.type}`);
    const unit = open ? unitOf(base) : undefined;
    if (unit !== undefined) lines.push(`# UNIT ${base} ${unit}`);
    const sampleName = open && family.type === "counter"
      ? `${base}_total`
      : base;
    for (const sample of family.samples) {
      let line = sample.labels === ""
        ? `${sampleName}${sample.suffix} ${formatValue(sample.value)}`
        : `${sampleName}${sample.suffix}{${sample.labels}} ${
          formatValue(sample.value)
        }`;
      const exemplar = sample.exemplar;
      if (open && exemplar !== undefined) {
        line += ` # {${exemplar.labels}} ${formatValue(exemplar.value)} ${
          exemplar.timestamp.toFixed(3)
        }`;
      }
      lines.push(line);
    }
  }
  if (open) lines.push("# EOF");
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** Renders a label set: `name="value"` pairs, values escaped. */
export function renderLabels(
  names: readonly string[],
  values: readonly string[],
): string {
  let text = "";
  for (let i = 0; i < names.length; i++) {
    if (i > 0) text += ",";
    text += `${names[i]}="${escapeLabelValue(values[i])}"`;
  }
  return text;
}

/** Appends one label to a rendered label set. */
export function addLabel(labels: string, name: string, value: string): string {
  const pair = `${name}="${escapeLabelValue(value)}"`;
  return labels === "" ? pair : `${labels},${pair}`;
}

/** A number as both formats spell it. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value)
    ? value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
    : value;
}

function escapeHelp(help: string, open: boolean): string {
  const escaped = help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
  return open ? escaped.replace(/"/g, '\\"') : escaped;
}

/**
 * Picks the format an `Accept` header asks for: OpenMetrics when it lists
 * `application/openmetrics-text` with a quality at least that of the text
 * format, otherwise the Prometheus text format.
 */
export function negotiate(accept: string | null): ExpositionFormat {
  const lower = accept?.toLowerCase();
  if (lower === undefined || !lower.includes("openmetrics")) {
    return "prometheus";
  }
  let open = 0;
  let text = 0;
  for (const range of lower.split(",")) {
    const [type, ...params] = range.split(";").map((s) => s.trim());
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split("=").map((s) => s.trim());
      if (key === "q") q = Number(value);
    }
    if (!(q >= 0 && q <= 1)) continue;
    if (type === "application/openmetrics-text") open = Math.max(open, q);
    else if (type === "text/plain") text = Math.max(text, q);
  }
  return open > 0 && open >= text ? "openmetrics" : "prometheus";
}
