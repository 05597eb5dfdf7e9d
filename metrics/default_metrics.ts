// Process and runtime metrics from prom-client's collectDefaultMetrics, kept
// once per process (they describe the process, not a registry) and filtered
// to those that report real values on Deno and Bun.
import { collectDefaultMetrics, Registry } from "prom-client";
import { type Family, renderLabels, type Sample } from "./exposition.ts";

/**
 * Left out everywhere: `nodejs_gc_duration_seconds` never gets an
 * observation (neither runtime emits `gc` performance entries), the active
 * handles and requests are always empty, and the `*_total` gauges break the
 * naming rules (`promtool check metrics` rejects them; `sum()` of the
 * labelled gauge gives the same number).
 */
const EXCLUDED = new Set([
  "nodejs_gc_duration_seconds",
  "nodejs_active_handles",
  "nodejs_active_handles_total",
  "nodejs_active_requests",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
]);

/**
 * Left out on Bun: JavaScriptCore has no V8 heap spaces (all but one read
 * 0) and `process.getActiveResourcesInfo()` is always empty.
 */
const EXCLUDED_ON_BUN = new Set([
  "nodejs_heap_space_size_total_bytes",
  "nodejs_heap_space_size_used_bytes",
  "nodejs_heap_space_size_available_bytes",
  "nodejs_active_resources",
]);

let registry: Registry | undefined;

/** The default metrics of this process, collected now. */
export async function defaultFamilies(): Promise<Family[]> {
  if (registry === undefined) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  const bun = "Bun" in globalThis;
  const families: Family[] = [];
  for (const data of await registry.getMetricsAsJSON()) {
    if (EXCLUDED.has(data.name) || (bun && EXCLUDED_ON_BUN.has(data.name))) {
      continue;
    }
    // Before prom-client's event-loop monitor has a sample, its lag gauges
    // read NaN and int64-max nanoseconds: leave such a family out until then.
    if (
      data.name.startsWith("nodejs_eventloop_lag") &&
      data.values.some((v) => !Number.isFinite(v.value) || v.value > 1e9)
    ) {
      continue;
    }
    const samples: Sample[] = data.values.map((value) => {
      const labels = value.labels as Record<string, string | number>;
      const names = Object.keys(labels);
      return {
        suffix: ((value as { metricName?: string }).metricName ?? data.name)
          .slice(data.name.length),
        labels: renderLabels(names, names.map((n) => String(labels[n]))),
        value: value.value,
      };
    });
    families.push({
      name: data.name,
      help: data.help,
      type: String(data.type) as Family["type"],
      samples,
    });
  }
  return families;
}
