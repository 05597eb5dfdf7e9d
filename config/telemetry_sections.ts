import * as v from "valibot";
import { duration } from "./duration.ts";
import {
  between,
  flag,
  oneOf,
  port,
  text,
  withDefault,
} from "./field_schemas.ts";
import type { ConfigSchema } from "./valibot_adapter.ts";

/**
 * Log levels, least to most severe.
 *
 * @example Usage
 * ```ts
 * import type { LogLevel } from "@cqi/config";
 *
 * const level: LogLevel = "debug";
 * ```
 */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

/**
 * The `log` section (`logging` is accepted in files). All fields have
 * defaults.
 *
 * @example Usage
 * ```ts
 * import type { LogConfig } from "@cqi/config";
 *
 * const log: LogConfig = { level: "info", format: "json", output: "stdout" };
 * ```
 */
export interface LogConfig {
  /** Least severe level written. Default `info`. */
  level: LogLevel;
  /** `json` lines, or `pretty` for development. Default `json`. */
  format: "json" | "pretty";
  /** `stdout`, `stderr` or a file path. Default `stdout`. */
  output: string;
}

/** Schema of {@linkcode LogConfig}. */
export const logSchema: ConfigSchema<LogConfig> = v.object({
  level: withDefault(
    oneOf(["trace", "debug", "info", "warn", "error", "fatal"] as const),
    "info",
    "Least severe level written: `trace`, `debug`, `info`, `warn`, `error` or `fatal`.",
  ),
  format: withDefault(
    oneOf(["json", "pretty"] as const),
    "json",
    "`json` lines, or `pretty` for development.",
  ),
  output: withDefault(text(), "stdout", "`stdout`, `stderr` or a file path."),
}, "expected a mapping");

/**
 * The `metrics` section (Prometheus). An absent section is disabled; a
 * present one is enabled unless it says `enabled: false`.
 *
 * @example Usage
 * ```ts
 * import type { MetricsConfig } from "@cqi/config";
 *
 * const metrics: MetricsConfig = { enabled: true, port: 9090, path: "/metrics" };
 * ```
 */
export interface MetricsConfig {
  /** Whether metrics are exposed. Default: whether the section is present. */
  enabled: boolean;
  /** Port of the metrics endpoint. Default 9090. */
  port: number;
  /** Path of the metrics endpoint. Default `/metrics`. */
  path: string;
}

/** Schema of {@linkcode MetricsConfig}. */
export const metricsSchema: ConfigSchema<MetricsConfig> = v.object({
  enabled: withDefault(
    flag(),
    true,
    "Whether metrics are exposed; an absent section is disabled.",
  ),
  port: withDefault(
    port(true),
    9090,
    "Port of the metrics endpoint; 0 picks a free one.",
  ),
  path: withDefault(
    v.pipe(
      v.string("expected a string"),
      v.startsWith("/", "expected a path starting with /"),
    ),
    "/metrics",
    "Path of the metrics endpoint.",
  ),
}, "expected a mapping");

/**
 * Trace exporters: OTLP over gRPC (port 4317) or HTTP (4318), the console,
 * or memory (tests).
 *
 * @example Usage
 * ```ts
 * import type { TracingExporter } from "@cqi/config";
 *
 * const exporter: TracingExporter = "otlp-http";
 * ```
 */
export type TracingExporter = "otlp-grpc" | "otlp-http" | "console" | "memory";

/**
 * The `tracing` section (OpenTelemetry). An absent section is disabled; a
 * present one is enabled unless it says `enabled: false`.
 *
 * @example Usage
 * ```ts
 * import type { TracingConfig } from "@cqi/config";
 *
 * const tracing: TracingConfig = {
 *   enabled: true,
 *   exporter: "otlp-grpc",
 *   endpoint: "otel-collector:4317",
 *   sampler: "ratio",
 *   sampleRate: 0.1,
 *   shutdownTimeout: 2_000,
 * };
 * ```
 */
export interface TracingConfig {
  /** Whether spans are exported. Default: whether the section is present. */
  enabled: boolean;
  /** Where spans go. Default `otlp-grpc`. */
  exporter: TracingExporter;
  /** Collector address for the OTLP exporters. Default `localhost:4317`. */
  endpoint: string;
  /** `always`, `never`, or `ratio` (parent-based). Default `ratio`. */
  sampler: "always" | "never" | "ratio";
  /** Fraction of new traces sampled by `ratio`, 0–1. Default 0.1. */
  sampleRate: number;
  /**
   * Milliseconds the shutdown may spend exporting the last spans; spans
   * still unexported then are reported lost, so that a collector that is
   * down cannot hold the shutdown. Default 2 s.
   */
  shutdownTimeout: number;
}

/** Schema of {@linkcode TracingConfig}. */
export const tracingSchema: ConfigSchema<TracingConfig> = v.object({
  enabled: withDefault(
    flag(),
    true,
    "Whether spans are exported; an absent section is disabled.",
  ),
  exporter: withDefault(
    oneOf(["otlp-grpc", "otlp-http", "console", "memory"] as const),
    "otlp-grpc",
    "`otlp-grpc`, `otlp-http`, `console` or `memory` (for tests).",
  ),
  endpoint: withDefault(
    text(),
    "localhost:4317",
    "Collector address for the OTLP exporters.",
  ),
  sampler: withDefault(
    oneOf(["always", "never", "ratio"] as const),
    "ratio",
    "`always`, `never`, or `ratio` (parent-based: a sampled parent is honoured).",
  ),
  sampleRate: withDefault(
    between(0, 1),
    0.1,
    "Fraction of new traces sampled by `ratio`, 0 to 1.",
  ),
  shutdownTimeout: withDefault(
    duration(),
    "2s",
    "Longest the shutdown spends exporting the last spans; those left are reported lost.",
  ),
}, "expected a mapping");
