// Process and runtime metrics from prom-client's collectDefaultMetrics, kept
// once per process (they describe the process, not a registry) and filtered
// to those that report real values on Deno and Bun; the memory and file
// descriptor series are read here (see processFamilies).
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";
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

/**
 * prom-client's memory and file descriptor gauges, replaced by those of
 * processFamilies: prom-client reads them from /proc and, when it cannot
 * (Deno without --allow-all), reports 0 or drops the series for good.
 */
const READ_HERE = [
  "process_resident_memory_bytes",
  "process_virtual_memory_bytes",
  "process_heap_bytes",
  "process_open_fds",
  "process_max_fds",
];

let registry: Registry | undefined;

/** The default metrics of this process, collected now. */
export async function defaultFamilies(): Promise<Family[]> {
  if (registry === undefined) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
    for (const name of READ_HERE) registry.removeSingleMetric(name);
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
    // where prom-client puts them: after the start time
    if (data.name === "process_start_time_seconds") {
      families.push(...processFamilies());
    }
  }
  return families;
}

/**
 * The process's memory and file descriptors, each series only when it can
 * be read — never a 0 that stands for "unknown":
 *
 * - `process_resident_memory_bytes` from `process.memoryUsage.rss()`, which
 *   needs no permission on either runtime;
 * - `process_virtual_memory_bytes` and `process_heap_bytes` (VmSize and
 *   VmData of /proc/self/status), `process_open_fds` (the entries of
 *   /proc/self/fd, less the one listing them) and `process_max_fds` (the
 *   soft "Max open files" of /proc/self/limits; left out when unlimited):
 *   Linux only, and on Deno only with --allow-all, since Deno 2 treats
 *   /proc/self as a special file that --allow-read does not open.
 */
function processFamilies(): Family[] {
  const families: Family[] = [];
  const gauge = (name: string, help: string, value: number | undefined) => {
    if (value === undefined || !Number.isFinite(value)) return;
    families.push({
      name,
      help,
      type: "gauge",
      samples: [{ suffix: "", labels: "", value }],
    });
  };
  gauge(
    "process_resident_memory_bytes",
    "Resident memory size in bytes.",
    residentMemory(),
  );
  const status = readProc("/proc/self/status", (p) => readFileSync(p, "utf8"));
  gauge(
    "process_virtual_memory_bytes",
    "Virtual memory size in bytes.",
    statusBytes(status, "VmSize"),
  );
  gauge(
    "process_heap_bytes",
    "Process heap size in bytes.",
    statusBytes(status, "VmData"),
  );
  const fds = readProc("/proc/self/fd", (p) => readdirSync(p));
  gauge(
    "process_open_fds",
    "Number of open file descriptors.",
    fds === undefined ? undefined : fds.length - 1,
  );
  gauge(
    "process_max_fds",
    "Maximum number of open file descriptors.",
    maxOpenFiles(readProc("/proc/self/limits", (p) => readFileSync(p, "utf8"))),
  );
  return families;
}

function residentMemory(): number | undefined {
  try {
    const usage = process.memoryUsage as
      & { rss?: () => number }
      & (() => {
        rss: number;
      });
    const rss = typeof usage.rss === "function" ? usage.rss() : usage().rss;
    return rss > 0 ? rss : undefined;
  } catch {
    return undefined;
  }
}

/** Paths found unreadable for want of permission: not tried again. */
const denied = new Set<string>();

/**
 * Reads a /proc path, or undefined when it cannot be: not Linux, or no
 * permission. On Deno it is read only when the permission is granted
 * already, so that a scrape never prompts for one.
 */
function readProc<T>(path: string, read: (path: string) => T): T | undefined {
  if (process.platform !== "linux" || denied.has(path)) return undefined;
  const deno = (globalThis as {
    Deno?: {
      permissions?: {
        querySync?(d: { name: "read"; path: string }): { state: string };
      };
    };
  }).Deno;
  if (
    deno?.permissions?.querySync !== undefined &&
    deno.permissions.querySync({ name: "read", path }).state !== "granted"
  ) {
    denied.add(path);
    return undefined;
  }
  try {
    return read(path);
  } catch (error) {
    // Deno: NotCapable (--allow-read without --allow-all) or PermissionDenied;
    // anything else (EMFILE, say) may pass, so it is tried again next time
    const name = (error as { name?: string })?.name;
    const code = (error as { code?: string })?.code;
    if (
      name === "NotCapable" || name === "PermissionDenied" ||
      code === "EACCES" || code === "EPERM"
    ) {
      denied.add(path);
    }
    return undefined;
  }
}

/** A `kB` field of /proc/self/status, in bytes. */
function statusBytes(
  status: string | undefined,
  field: string,
): number | undefined {
  const match = status?.match(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m"));
  return match ? Number(match[1]) * 1024 : undefined;
}

/** The soft limit of "Max open files" in /proc/self/limits. */
export function maxOpenFiles(limits: string | undefined): number | undefined {
  const match = limits?.match(/^Max open files\s+(\d+)\s/m);
  return match ? Number(match[1]) : undefined;
}
