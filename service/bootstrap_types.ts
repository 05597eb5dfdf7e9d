// Structural copies of the sibling types bootstrap returns, so the public
// API names no other package's types (deno doc --lint: private-type-ref).

/**
 * The `Logger` of `@cqi/logging`, restated member for member: the value is
 * one, and it can be passed wherever a `Logger` is expected.
 *
 * @example Usage
 * ```ts
 * import { bootstrap, type BootstrapLogger } from "@cqi/service";
 *
 * await using app = bootstrap({ service: { name: "demo" } });
 * const log: BootstrapLogger = app.logger.child({ component: "pool" });
 * log.info("opened", { size: 10 });
 * ```
 */
export interface BootstrapLogger extends AsyncDisposable {
  /** The least severe level written. */
  readonly level:
    | "trace"
    | "debug"
    | "info"
    | "warn"
    | "error"
    | "fatal"
    | "silent";
  /** Writes a `trace` line. */
  trace(message: string, fields?: Record<string, unknown>): void;
  /** Writes a `debug` line. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Writes an `info` line. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Writes a `warn` line. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Writes an `error` line; put the error under `error` in `fields`. */
  error(message: string, fields?: Record<string, unknown>): void;
  /** Writes a `fatal` line. */
  fatal(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): BootstrapLogger;
  /** Whether a call at `level` writes a line. */
  isLevelEnabled(
    level: "trace" | "debug" | "info" | "warn" | "error" | "fatal",
  ): boolean;
  /** Resolves once every line logged so far reached the output. */
  flush(): Promise<void>;
  /** Flushes and closes the output. */
  close(): Promise<void>;
}

/**
 * The `MetricsRegistry` of `@cqi/metrics`, as far as bootstrap describes
 * it. The value is a whole `MetricsRegistry`: to pass it to `httpMetrics`
 * or `metricsHandler`, state that type
 * (`app.registry as MetricsRegistry`).
 *
 * @example Usage
 * ```ts
 * import { bootstrap, type BootstrapRegistry } from "@cqi/service";
 *
 * await using app = bootstrap({ service: { name: "demo" }, metrics: {} }, {
 *   defaultMetrics: false,
 * });
 * const registry: BootstrapRegistry | undefined = app.registry;
 * console.log(registry?.namespace); // "demo"
 * ```
 */
export interface BootstrapRegistry {
  /** The namespace every metric name starts with. */
  readonly namespace: string;
  /** Renders the exposition (`prometheus` text by default). */
  metrics(format?: "prometheus" | "openmetrics"): Promise<string>;
}

/**
 * The `Tracing` handle of `@cqi/tracing`, as far as bootstrap describes it.
 *
 * @example Usage
 * ```ts
 * import { bootstrap, type BootstrapTracing } from "@cqi/service";
 *
 * await using app = bootstrap({ service: { name: "demo" } });
 * const tracing: BootstrapTracing = app.tracing;
 * console.log(tracing.mode); // "disabled"
 * ```
 */
export interface BootstrapTracing extends AsyncDisposable {
  /** `sdk`, `deno` (Deno's built-in OpenTelemetry) or `disabled`. */
  readonly mode: "sdk" | "deno" | "disabled";
  /** Exports every ended span now. */
  flush(): Promise<void>;
  /** The spans the `memory` exporter holds, in the order they ended. */
  spans(): { readonly name: string }[];
  /** Exports every ended span and stops tracing. Never rejects. */
  close(): Promise<void>;
}

/**
 * The `Health` registry of `@cqi/health`, restated member for member.
 *
 * @example Usage
 * ```ts
 * import { bootstrap, type BootstrapHealth } from "@cqi/service";
 *
 * await using app = bootstrap({ service: { name: "demo" } });
 * const health: BootstrapHealth = app.health;
 * health.register("database", () => Promise.resolve());
 * console.log((await health.check()).status); // "healthy"
 * ```
 */
export interface BootstrapHealth extends AsyncDisposable {
  /** Adds (or replaces) a checker. */
  register(
    name: string,
    checker: ((signal: AbortSignal) => Promise<void>) | {
      check(signal: AbortSignal): Promise<void>;
      critical?: boolean;
    },
  ): void;
  /** Removes a checker; whether it was there. */
  unregister(name: string): boolean;
  /** Runs the checkers (cached) and combines their results. */
  check(signal?: AbortSignal): Promise<{
    status: "healthy" | "unhealthy";
    checks: Record<string, string>;
  }>;
  /** `GET /health/live`. */
  readonly live: (req: Request) => Promise<Response>;
  /** `GET /health/ready`. */
  readonly ready: (req: Request) => Promise<Response>;
  /** `GET /health/startup`. */
  readonly startup: (req: Request) => Promise<Response>;
  /** The three endpoints as routes for `router` from `@cqi/http`. */
  routes(): Record<string, (req: Request) => Promise<Response>>;
  /** Marks the service started. */
  markStarted(): void;
  /** Whether it was marked started. */
  readonly started: boolean;
  /** Starts the shutdown: readiness fails (after the drain delay). */
  beginShutdown(): void;
  /** Whether the shutdown began. */
  readonly shuttingDown: boolean;
  /** Stops answering checks. */
  close(): Promise<void>;
}
