/**
 * The part of a `MetricsRegistry` from `@cqi/metrics` that health checks
 * record into; pass the registry itself. (A structural type, so the public
 * API names no other package's types.)
 *
 * @example Usage
 * ```ts
 * import type { HealthMetrics } from "@cqi/health";
 * import { createRegistry } from "@cqi/metrics";
 *
 * const registry: HealthMetrics = createRegistry({ namespace: "shop" });
 * ```
 */
export interface HealthMetrics {
  /** Registers (or returns) the check-duration histogram. */
  histogram(options: {
    name: string;
    help: string;
    labelNames: readonly "check"[];
  }): { observe(labels: { check: string }, value: number): void };
  /** Registers (or returns) the check-failure counter. */
  counter(options: {
    name: string;
    help: string;
    labelNames: readonly "check"[];
  }): { inc(labels: { check: string }): void };
}

/**
 * The part of a `Logger` from `@cqi/logging` that health checks write to;
 * pass the logger itself.
 *
 * @example Usage
 * ```ts
 * import type { HealthLogger } from "@cqi/health";
 * import { createLogger, memorySink } from "@cqi/logging";
 *
 * const logger: HealthLogger = createLogger({ output: memorySink() });
 * logger.warn("health check failed", { check: "database" });
 * ```
 */
export interface HealthLogger {
  /** Logs a line at `warn`. */
  warn(message: string, fields?: Record<string, unknown>): void;
}
