import type { HealthLogger, HealthMetrics } from "./ports.ts";
import { type Clock, systemClock } from "@cqi/retry";
import {
  type Checker,
  describe,
  type Entry,
  MAX_TIMER,
  type Outcome,
  runEntry,
  toEntry,
} from "./checker.ts";

/**
 * Options for {@linkcode createHealth}. Durations are milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { HealthOptions } from "@cqi/health";
 *
 * const options: HealthOptions = { timeout: 2_000, cacheTtl: 500 };
 * ```
 */
export interface HealthOptions {
  /**
   * How long one checker may run before it counts as failed, in ms: from 1
   * to 2,147,483,647 (the longest timer). Default 5000.
   */
  timeout?: number;
  /**
   * How long a finished readiness result is reused, so a probe storm runs
   * each check at most once per period. `0` reuses only a run in flight.
   * Default 1000.
   */
  cacheTtl?: number;
  /**
   * Show a failed check's error message (`"error: connection refused"`) in
   * the readiness body. Default `false`: a failed check shows just
   * `"error"`, because anyone who can reach `/health/ready` would read it;
   * the full error goes to the `logger`.
   */
  exposeErrors?: boolean;
  /**
   * A `MetricsRegistry` from `@cqi/metrics`: records
   * `{ns}_health_check_duration_seconds` (histogram) and
   * `{ns}_health_check_failures_total` (counter), both labelled `check`.
   */
  registry?: HealthMetrics;
  /** A `Logger` from `@cqi/logging`: logs each failed check at `warn` with fields `check` and `error`. */
  logger?: HealthLogger;
  /** The clock for the readiness cache. Default: the system clock. */
  clock?: Clock;
}

/**
 * The combined result of every checker: `unhealthy` when a critical one
 * failed, else `degraded` when a non-critical one failed. `checks` maps each name to `"ok"` or `"error"` (with
 * `exposeErrors: true`, `"error: <message>"`).
 *
 * @example Usage
 * ```ts
 * import type { HealthReport } from "@cqi/health";
 *
 * const report: HealthReport = {
 *   status: "healthy",
 *   checks: { database: "ok", cache: "error: connection refused" },
 * };
 * ```
 */
export interface HealthReport {
  /**
   * `unhealthy` when a critical checker failed (readiness answers 503),
   * `degraded` when only non-critical ones failed (readiness answers 200),
   * else `healthy`.
   */
  status: "healthy" | "degraded" | "unhealthy";
  /** Each checker's outcome, by name. */
  checks: Record<string, string>;
}

/**
 * A health registry: the checkers of a service and the three Kubernetes
 * probe handlers. Create one with {@linkcode createHealth}.
 *
 * @example Usage
 * ```ts
 * import { createHealth, type Health } from "@cqi/health";
 *
 * const health: Health = createHealth();
 * health.register("database", () => Promise.resolve());
 * console.log((await health.check()).status); // "healthy"
 * await health.close();
 * ```
 */
export interface Health extends AsyncDisposable {
  /**
   * Adds a checker. Throws a `TypeError` when the name is taken or the
   * checker is malformed.
   *
   * @param name The key in the `checks` object, such as `database`.
   * @param checker A function or an object with `check` and `critical`.
   */
  register(name: string, checker: Checker): void;
  /**
   * Removes a checker.
   *
   * @param name The name it was registered under.
   * @returns Whether there was one.
   */
  unregister(name: string): boolean;
  /**
   * Runs every checker now (no cache), concurrently, each under the
   * timeout.
   *
   * @param signal Aborts every running checker.
   * @returns The combined result.
   */
  check(signal?: AbortSignal): Promise<HealthReport>;
  /** Liveness: always 200 `{"status":"healthy"}`; runs no checks. */
  readonly live: (req: Request) => Promise<Response>;
  /**
   * Readiness: 200 or 503 with the cached {@linkcode HealthReport}; 503
   * with no checks once shutting down (after the drain delay) or closed.
   */
  readonly ready: (req: Request) => Promise<Response>;
  /** Startup: 503 until {@linkcode Health.markStarted}, then 200. */
  readonly startup: (req: Request) => Promise<Response>;
  /**
   * A route table for `router` from `@cqi/http`: `GET /health/live`,
   * `GET /health/ready` and `GET /health/startup`.
   */
  routes(): Record<string, (req: Request) => Promise<Response>>;
  /** Makes the startup probe answer 200 from now on. */
  markStarted(): void;
  /** Whether {@linkcode Health.markStarted} was called. */
  readonly started: boolean;
  /**
   * Starts shutdown: readiness answers 503 from now on (`@cqi/service`'s
   * `run` then keeps serving for its `drainDelay`). Calling it again changes
   * nothing.
   */
  beginShutdown(): void;
  /** Whether {@linkcode Health.beginShutdown} (or `close`) was called. */
  readonly shuttingDown: boolean;
  /** Aborts running checks; readiness answers 503 from then on. */
  close(): Promise<void>;
}

const HEADERS = { "cache-control": "no-store" };

function respond(report: HealthReport | { status: string }): Response {
  return Response.json(report, {
    status: report.status === "unhealthy" ? 503 : 200,
    headers: HEADERS,
  });
}

function duration(
  name: string,
  value: number | undefined,
  min: number,
  max = Number.MAX_VALUE,
) {
  if (value === undefined) return;
  if (
    typeof value !== "number" || !Number.isFinite(value) || value < min ||
    value > max
  ) {
    throw new RangeError(
      `createHealth: ${name} must be milliseconds >= ${min}${
        max < Number.MAX_VALUE ? ` and at most ${max}` : ""
      }, got ${value}`,
    );
  }
}

/**
 * Creates a {@linkcode Health} registry. Readiness runs every checker
 * concurrently under `timeout`; a checker still running then counts as
 * failed, its signal is aborted and it is not awaited. A failed check
 * shows `"error"`; its message (`"error: timed out"`) only with
 * `exposeErrors: true`. Concurrent probes share one run and a finished run is reused
 * for `cacheTtl` ms, so each check runs at most once per period however
 * many probes arrive.
 *
 * @example Usage
 * ```ts
 * import { router, serve } from "@cqi/http";
 * import { createHealth } from "@cqi/health";
 *
 * await using health = createHealth({ timeout: 1_000 });
 * health.register("database", () => Promise.resolve());
 * health.register("cache", {
 *   check: () => Promise.reject(new Error("connection refused")),
 *   critical: false,
 * });
 * await using server = serve(router(health.routes()), {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/health/ready`);
 * console.log(res.status, await res.text());
 * // 200 {"status":"degraded","checks":{"database":"ok","cache":"error"}}
 * ```
 *
 * @param options Timeout, cache period, drain delay, metrics and logging.
 * @returns The registry.
 */
export function createHealth(options: HealthOptions = {}): Health {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("createHealth: options must be an object");
  }
  duration("timeout", options.timeout, 1, MAX_TIMER);
  duration("cacheTtl", options.cacheTtl, 0);
  if (options.clock !== undefined && typeof options.clock?.now !== "function") {
    throw new TypeError("createHealth: clock must have a now() method");
  }
  return new HealthImpl(options);
}

class HealthImpl implements Health {
  readonly #entries = new Map<string, Entry>();
  readonly #timeout: number;
  readonly #ttl: number;
  readonly #expose: boolean;
  readonly #clock: Clock;
  readonly #logger: HealthLogger | undefined;
  readonly #record: ((outcome: Outcome) => void) | undefined;
  readonly #closing = new AbortController();
  /** The shared readiness run: in flight, or finished at `#at`. */
  #cached: Promise<HealthReport> | undefined;
  #at = Infinity;
  #shuttingDown = false;
  #started = false;

  constructor(options: HealthOptions) {
    this.#timeout = options.timeout ?? 5_000;
    this.#ttl = options.cacheTtl ?? 1_000;
    this.#expose = options.exposeErrors ?? false;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    const registry = options.registry;
    if (registry !== undefined) {
      const seconds = registry.histogram({
        name: "health_check_duration_seconds",
        help: "Duration of health checks.",
        labelNames: ["check"],
      });
      const failures = registry.counter({
        name: "health_check_failures_total",
        help: "Failed health checks, timeouts included.",
        labelNames: ["check"],
      });
      this.#record = ({ entry, error, seconds: s }) => {
        seconds.observe({ check: entry.name }, s);
        if (error !== undefined) failures.inc({ check: entry.name });
      };
    }
  }

  register(name: string, checker: Checker): void {
    const entry = toEntry(name, checker);
    if (this.#entries.has(name)) {
      throw new TypeError(
        `health: a checker named ${JSON.stringify(name)} is already registered`,
      );
    }
    this.#entries.set(name, entry);
    this.#cached = undefined;
  }

  unregister(name: string): boolean {
    const had = this.#entries.delete(name);
    if (had) this.#cached = undefined;
    return had;
  }

  async check(signal?: AbortSignal): Promise<HealthReport> {
    const parent = signal === undefined
      ? this.#closing.signal
      : AbortSignal.any([signal, this.#closing.signal]);
    const outcomes = await Promise.all(
      [...this.#entries.values()].map((entry) =>
        runEntry(entry, entry.timeout ?? this.#timeout, parent)
      ),
    );
    const checks: Record<string, string> = {};
    let status: HealthReport["status"] = "healthy";
    for (const outcome of outcomes) {
      const { entry, error } = outcome;
      this.#record?.(outcome);
      if (error === undefined) {
        checks[entry.name] = "ok";
        continue;
      }
      checks[entry.name] = describe(error, this.#expose);
      if (entry.critical) status = "unhealthy";
      else if (status === "healthy") status = "degraded";
      this.#logger?.warn("health check failed", {
        check: entry.name,
        critical: entry.critical,
        error,
      });
    }
    return { status, checks };
  }

  readonly live = (_req: Request): Promise<Response> =>
    Promise.resolve(respond({ status: "healthy" }));

  readonly ready = async (_req: Request): Promise<Response> => {
    if (this.#unready()) return respond({ status: "unhealthy", checks: {} });
    return respond(await this.#shared());
  };

  readonly startup = (_req: Request): Promise<Response> =>
    Promise.resolve(
      respond({ status: this.#started ? "healthy" : "unhealthy" }),
    );

  routes(): Record<string, (req: Request) => Promise<Response>> {
    return {
      "GET /health/live": this.live,
      "GET /health/ready": this.ready,
      "GET /health/startup": this.startup,
    };
  }

  markStarted(): void {
    this.#started = true;
  }

  get started(): boolean {
    return this.#started;
  }

  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown || this.#closing.signal.aborted;
  }

  close(): Promise<void> {
    this.#closing.abort(new Error("health registry closed"));
    this.#cached = undefined;
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #unready(): boolean {
    if (this.#closing.signal.aborted) return true;
    return this.#shuttingDown;
  }

  /** The in-flight run, a run finished less than `cacheTtl` ago, or a new one. */
  #shared(): Promise<HealthReport> {
    if (
      this.#cached !== undefined && this.#clock.now() - this.#at < this.#ttl
    ) {
      return this.#cached;
    }
    const run = this.check();
    this.#cached = run;
    this.#at = Infinity; // in flight: always shared
    run.then(() => {
      if (this.#cached === run) this.#at = this.#clock.now();
    });
    return run;
  }
}
