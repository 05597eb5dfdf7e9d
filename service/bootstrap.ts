import { createHealth, type Health } from "@cqi/health";
import { createLogger, type Logger, setDefaultLogger } from "@cqi/logging";
import {
  createRegistry,
  metricsHandler,
  type MetricsRegistry,
} from "@cqi/metrics";
import { type Clock, withTimeout } from "@cqi/retry";
import { createTracing, type Tracing } from "@cqi/tracing";
import {
  applyMiddleware,
  type Handler,
  type Middleware,
  router,
  type ServiceIdentity,
} from "@cqi/http";
import { breakerHooks, retryHooks, serverHooks } from "./observe.ts";
import { httpStack, type HttpStackOptions } from "./http_stack.ts";
import { databaseHooks } from "./database_hooks.ts";
import { cacheHooks } from "./cache_hooks.ts";
import { busHooks } from "./bus_hooks.ts";
import { httpService } from "./http_service.ts";
import { authFromConfig, type AuthSection } from "./auth_from_config.ts";
import { createRunner, type ServiceEntry } from "./runner.ts";
import { run, type RunOptions } from "./run.ts";
import type { Service } from "./service.ts";

/**
 * The sections of a CQI config that {@linkcode bootstrap} reads: a
 * `CqiConfig` from `loadConfig()` in `@cqi/config` fits, and so does a
 * hand-built object. An absent `metrics` or `tracing` section is disabled;
 * a present one is enabled unless it says `enabled: false`.
 *
 * @example Usage
 * ```ts
 * import type { BootstrapConfig } from "@cqi/service";
 *
 * const config: BootstrapConfig = {
 *   service: { name: "cqpm", version: "1.4.0", environment: "production" },
 *   log: { level: "info", format: "json", output: "stdout" },
 *   metrics: { enabled: true },
 *   tracing: { exporter: "otlp-grpc", endpoint: "collector:4317" },
 * };
 * ```
 */
export interface BootstrapConfig {
  /** Who the service is: logs, the metric namespace and trace resources. */
  service: ServiceIdentity;
  /** The logger's level, format and output (`stdout`, `stderr` or a path). */
  log?: {
    level?: "trace" | "debug" | "info" | "warn" | "error" | "fatal";
    format?: "json" | "pretty";
    output?: string;
  };
  /** Whether there is a metrics registry. */
  metrics?: { enabled?: boolean };
  /** API keys and JWT verification for {@linkcode Bootstrap.auth}. */
  auth?: AuthSection;
  /**
   * The HTTP server of `run`: where it listens, how long requests get to
   * finish (`shutdownTimeout`), how long it keeps serving after readiness
   * failed (`shutdownDelay`), and Bun's idle timeout. All milliseconds.
   */
  server?: {
    host?: string;
    port?: number;
    shutdownTimeout?: number;
    shutdownDelay?: number;
    idleTimeout?: number;
  };
  /** The options of `createTracing` from `@cqi/tracing`, without `service`. */
  tracing?: {
    enabled?: boolean;
    exporter?: "otlp" | "otlp-grpc" | "otlp-http" | "console" | "memory";
    endpoint?: string;
    sampler?: "always" | "never" | "ratio";
    sampleRate?: number;
    /**
     * Milliseconds the shutdown may spend exporting the last spans (those
     * left then are reported lost), so that a collector that is down cannot
     * hold it. Default 2000 (`createTracing`'s own default is 5000).
     */
    shutdownTimeout?: number;
  };
}

// A down collector holds the shutdown no longer than this by default:
// createTracing's 5 s is most of a short termination grace period.
const TRACING_SHUTDOWN_TIMEOUT = 2_000;

/**
 * Options for {@linkcode bootstrap}.
 *
 * @example Usage
 * ```ts
 * import type { BootstrapOptions } from "@cqi/service";
 *
 * const options: BootstrapOptions = { defaultMetrics: false };
 * ```
 */
export interface BootstrapOptions {
  /**
   * Where log lines go instead of `config.log.output`: a `Sink` from
   * `@cqi/logging`, such as `memorySink()` in tests.
   */
  logOutput?: {
    write(line: string): void;
    flush(): Promise<void>;
    close(): Promise<void>;
  };
  /** Make the logger the default one (`setDefaultLogger`). Default `true`. */
  setDefaultLogger?: boolean;
  /** Include the process metrics in the registry. Default `true`. */
  defaultMetrics?: boolean;
  /**
   * Milliseconds each `onShutdown` hook gets; one still running then is
   * left behind (`shutdown: hook failed`, a failed shutdown) so that a
   * client waiting for an unreachable server cannot hold the exit.
   * Default 5 s.
   */
  hookTimeout?: number;
}

/**
 * What {@linkcode bootstrap} returns: the service's telemetry and health
 * registry, and its shutdown.
 *
 * @example Usage
 * ```ts
 * import { bootstrap, type Bootstrap } from "@cqi/service";
 *
 * await using app: Bootstrap = bootstrap({ service: { name: "demo" } });
 * app.logger.info("ready");
 * ```
 */
export interface Bootstrap<C extends BootstrapConfig = BootstrapConfig>
  extends AsyncDisposable {
  /** The config it was built from. */
  readonly config: C;
  /** The service's logger (`service_name` set), also the default logger. */
  readonly logger: Logger;
  /** The metrics registry; `undefined` when metrics are disabled. */
  readonly registry: MetricsRegistry | undefined;
  /** The tracing handle; mode `disabled` when tracing is disabled. */
  readonly tracing: Tracing;
  /** The health registry, recording into `registry` and logging to `logger`. */
  readonly health: Health;
  /**
   * Adds a cleanup to run at shutdown, last added first, before tracing and
   * logs are flushed; each gets `hookTimeout` (5 s by default).
   *
   * @param fn The cleanup.
   * @throws {TypeError} When `fn` is not a function.
   * @throws {Error} After shutdown started.
   */
  onShutdown(fn: () => void | Promise<void>): void;
  /**
   * {@linkcode retryHooks} reporting to this logger and registry: spread
   * the result into `retry()`'s options.
   *
   * @param operation A low-cardinality name for what is retried.
   */
  retryHooks(operation: string): ReturnType<typeof retryHooks>;
  /**
   * {@linkcode breakerHooks} reporting to this logger and registry: spread
   * the result into `createCircuitBreaker()`'s options.
   *
   * @param breaker A low-cardinality name for the breaker.
   */
  breakerHooks(breaker: string): ReturnType<typeof breakerHooks>;
  /**
   * {@linkcode serverHooks} reporting to this logger and registry: spread
   * the result into `httpService()`'s options.
   *
   * @param server A low-cardinality name for the server, such as `http`.
   */
  serverHooks(server: string): ReturnType<typeof serverHooks>;
  /**
   * {@linkcode databaseHooks} reporting to this logger, registry and
   * tracing: spread the result into `createDatabase()`'s options.
   *
   * @param database A low-cardinality name for the database, such as `main`.
   * @param options The slow-statement threshold (default 200 ms).
   */
  databaseHooks(
    database: string,
    options?: { slowQuery?: number },
  ): ReturnType<typeof databaseHooks>;
  /**
   * {@linkcode cacheHooks} reporting to this logger, registry and tracing:
   * spread the result into `createCache()`'s options.
   *
   * @param cache A low-cardinality name for the cache, such as `main`.
   * @param options `tracing: false` for no span per command (a hot cache).
   */
  cacheHooks(
    cache: string,
    options?: { tracing?: boolean },
  ): ReturnType<typeof cacheHooks>;
  /**
   * {@linkcode busHooks} reporting to this logger and registry: spread the
   * result into `createBus()`'s options (the bus makes its own spans).
   *
   * @param bus A low-cardinality name for the bus, such as `main`.
   * @param options The clock of the log lines' throttle.
   */
  busHooks(
    bus: string,
    options?: { clock?: Clock },
  ): ReturnType<typeof busHooks>;
  /**
   * Runs the `onShutdown` hooks last first, then closes the health
   * registry, then tracing (exporting every ended span, within
   * `tracing.shutdownTimeout`), then runs `last`, then closes the logger
   * (writing every line). Every step runs even when one fails; failures
   * are logged and the first is rethrown. Idempotent: a later call returns
   * the first call's promise, and its `last` is not run.
   *
   * @param last Runs just before the logger closes, such as to write a
   *   service's final line after every export failure line.
   */
  shutdown(last?: () => void | Promise<void>): Promise<void>;
  /**
   * The canonical HTTP stack ({@linkcode httpStack}) on this logger and
   * registry, as one middleware.
   *
   * @param options Tracing options and auth for every request.
   */
  httpStack(
    options?: Omit<HttpStackOptions, "logger" | "registry">,
  ): Middleware;
  /**
   * The auth middleware the `auth` section describes: `apiKey` for its
   * API keys, `jwt` for its JWT section, `anyOf` both when it has both.
   * With neither, a `development` service gets one freshly generated API
   * key, printed on stderr (never logged) with a warning line; any other
   * environment throws, so a service meant to be guarded never starts
   * open. Attach it to the routes it guards, such
   * as `group("/api", [svc.auth()], routes)` of `@cqi/http`.
   *
   * @throws {Error} When nothing is configured outside `development`.
   */
  auth(): Middleware;
  /**
   * The operational routes for a `router` of `@cqi/http`: the health
   * probes (`/health/live`, `/health/ready`, `/health/startup`) and, with a
   * registry, `GET /metrics`.
   */
  routes(): Record<string, Handler>;
  /**
   * Runs the service until SIGTERM or SIGINT: serves `handler` behind
   * {@linkcode httpStack} per the `server` section (after `options.services`
   * started, which it depends on), logs where it listens, reports server
   * errors through {@linkcode serverHooks}; on the signal readiness fails,
   * requests are served for `server.shutdownDelay`, in-flight ones get
   * `server.shutdownTimeout` to finish, services stop last-started first,
   * then {@linkcode Bootstrap.shutdown} flushes and writes a last line.
   *
   * @param handler The application (its routes, with their own auth).
   * @param options Services to run beside it, the stack's options, and
   *   `run`'s signal and exit for tests.
   * @returns The exit code: 0 after a clean shutdown, else 1.
   */
  run(handler: Handler, options?: BootstrapRunOptions): Promise<number>;
}

/**
 * Options for `run` of a {@linkcode Bootstrap}.
 *
 * @example Usage
 * ```ts
 * import type { BootstrapRunOptions } from "@cqi/service";
 *
 * const options: BootstrapRunOptions = { stack: { tracing: { returnTraceparent: true } } };
 * ```
 */
export interface BootstrapRunOptions {
  /** Services started before the HTTP server (a database, a consumer). */
  services?: readonly (Service | ServiceEntry)[];
  /** Options of the stack around the handler. */
  stack?: Omit<HttpStackOptions, "logger" | "registry">;
  /**
   * Routes served beside the handler without the HTTP stack, for handlers
   * that bring their own, such as a `connectHandler` of `@cqi/grpc` behind
   * `grpcStack`: `{ "POST /cqc.quickstart.v1.PositionService/*": grpc }`.
   */
  rpc?: Record<string, Handler>;
  /** Stops the service as a signal would (tests). */
  signal?: RunOptions["signal"];
  /** Called with the address once the server listens, after the log line. */
  onListen?: (addr: { hostname: string; port: number }) => void;
}

/**
 * Builds a service's logger, metrics registry, tracing and health registry
 * from its config in one call. The logger gets the service name and the
 * `log` section and becomes the default logger; the registry (when
 * `metrics` is enabled) uses the service name as namespace; tracing gets
 * the `tracing` section and the service's name, version and environment,
 * and reports failed exports to the logger (its shutdown bounded by
 * `tracing.shutdownTimeout`, 2 s by default); the health registry records
 * into the registry and logs to the logger. `shutdown()` (or
 * `await using`) cleans up in reverse: hooks, health, tracing, logs last
 * so that nothing logged during the shutdown is lost.
 *
 * @example Usage
 * ```ts
 * import { loadConfig } from "@cqi/config";
 * import { bootstrap } from "@cqi/service";
 *
 * const config = await loadConfig({
 *   env: { CQI_SERVICE_NAME: "cqpm", CQI_METRICS_ENABLED: "true" },
 *   file: false,
 *   envFile: false,
 * });
 * const app = bootstrap(config, { defaultMetrics: false });
 * app.onShutdown(() => app.logger.info("pool closed"));
 * app.logger.info("started");
 * console.log(app.registry?.namespace, app.tracing.mode); // "cqpm" "disabled"
 * await app.shutdown(() => app.logger.info("stopped")); // the last line
 * ```
 *
 * @param config The config (`CqiConfig` from `@cqi/config` or any object with these sections).
 * @param options A log sink for tests, whether to set the default logger, process metrics.
 * @returns The logger, registry, tracing, health registry and shutdown.
 * @throws {TypeError} When `config.service.name` is missing, or an option of a part is invalid.
 * @throws {Error} When tracing is already initialised in this process.
 */
export function bootstrap<C extends BootstrapConfig>(
  config: C,
  options: BootstrapOptions = {},
): Bootstrap<C> {
  const hookTimeout = options.hookTimeout ?? 5_000;
  if (!(typeof hookTimeout === "number" && hookTimeout > 0)) {
    throw new RangeError(
      `bootstrap: hookTimeout must be milliseconds > 0, got ${hookTimeout}`,
    );
  }
  const service = config?.service;
  if (typeof service?.name !== "string" || service.name.trim() === "") {
    throw new TypeError(
      "bootstrap: config.service.name must be a non-empty string",
    );
  }
  const logger = createLogger({
    service,
    level: config.log?.level,
    format: config.log?.format,
    output: options.logOutput ?? config.log?.output,
  });
  let tracing: Tracing;
  let registry: MetricsRegistry | undefined;
  try {
    if (config.metrics !== undefined && config.metrics.enabled !== false) {
      registry = createRegistry({
        service,
        defaultMetrics: options.defaultMetrics,
      });
    }
    const {
      enabled,
      exporter,
      endpoint,
      sampler,
      sampleRate,
      shutdownTimeout = TRACING_SHUTDOWN_TIMEOUT,
    }: NonNullable<BootstrapConfig["tracing"]> = config.tracing ??
      { enabled: false };
    tracing = createTracing({
      service,
      enabled,
      exporter,
      endpoint,
      sampler,
      sampleRate,
      shutdownTimeout,
      onError: (error) => logger.error("trace export failed", { error }),
    });
  } catch (error) {
    void logger.close();
    throw error;
  }
  const health = createHealth({ registry, logger });
  if (options.setDefaultLogger !== false) setDefaultLogger(logger);

  const hooks: (() => void | Promise<void>)[] = [];
  let closing: Promise<void> | undefined;
  const shutdown = (last?: () => void | Promise<void>) =>
    closing ??= (async () => {
      const failures: unknown[] = [];
      const step = async (name: string, fn: () => void | Promise<void>) => {
        try {
          await fn();
        } catch (error) {
          failures.push(error);
          logger.error(`shutdown: ${name} failed`, { error });
        }
      };
      for (const hook of hooks.reverse()) {
        await step("hook", () => withTimeout(() => hook(), hookTimeout));
      }
      await step("health", () => health.close());
      await step("tracing", () => tracing.close());
      if (last !== undefined) await step("last", last);
      await step("logger", () => logger.close());
      if (failures.length > 0) throw failures[0];
    })();

  const app: Bootstrap<C> = {
    config,
    logger,
    registry,
    tracing,
    health,
    onShutdown(fn) {
      if (typeof fn !== "function") {
        throw new TypeError("onShutdown: fn must be a function");
      }
      if (closing !== undefined) {
        throw new Error("onShutdown: the shutdown has started");
      }
      hooks.push(fn);
    },
    retryHooks: (operation) => retryHooks(operation, { logger, registry }),
    breakerHooks: (breaker) => breakerHooks(breaker, { logger, registry }),
    serverHooks: (server) => serverHooks(server, { logger, registry }),
    databaseHooks: (database, options) =>
      databaseHooks(database, {
        logger,
        registry,
        // no span work at all when tracing is off
        tracing: tracing.mode !== "disabled",
        ...options,
      }),
    cacheHooks: (cache, options) =>
      cacheHooks(cache, {
        logger,
        registry,
        // no span work at all when tracing is off
        tracing: tracing.mode !== "disabled" && options?.tracing !== false,
      }),
    busHooks: (bus, options) =>
      busHooks(bus, { logger, registry, clock: options?.clock }),
    shutdown,
    httpStack: (options) => httpStack({ ...options, logger, registry }),
    auth: () => authFromConfig(config.auth, config.service.environment, logger),
    routes: () => ({
      ...(registry && { "GET /metrics": metricsHandler({ registry }) }),
      ...health.routes(),
    }),
    run: (handler, options = {}) => runService(app, handler, options),
    [Symbol.asyncDispose]: () => shutdown(),
  };
  return app;
}

/** `handler` behind `stack`, and the `rpc` routes beside it, bare. */
function withRpc(
  rpc: Record<string, Handler> | undefined,
  stack: Middleware,
  handler: Handler,
): Handler {
  const wrapped = applyMiddleware(handler, stack);
  return rpc === undefined ? wrapped : router(rpc, { notFound: wrapped });
}

/** `run` of a Bootstrap: the HTTP service beside the given ones, until a signal. */
function runService(
  app: Bootstrap,
  handler: Handler,
  options: BootstrapRunOptions,
): Promise<number> {
  const { logger, health } = app;
  const server = app.config.server ?? {};
  const gracePeriod = server.shutdownTimeout ?? 30_000; // as @cqi/config
  const others = options.services ?? [];
  const services = createRunner({
    services: [
      ...others,
      httpService(withRpc(options.rpc, app.httpStack(options.stack), handler), {
        hostname: server.host,
        port: server.port,
        gracePeriod,
        idleTimeout: server.idleTimeout,
        // readiness fails first (the drain delay): clients leave their
        // kept-alive connections before the listener closes the idle ones
        keepAlive: () => !health.shuttingDown,
        dependsOn: others.map((s) => "service" in s ? s.service.name : s.name),
        onListen: (addr) => {
          logger.info("listening", {
            url: `http://${addr.hostname}:${addr.port}/`,
          });
          options.onListen?.(addr);
        },
        ...app.serverHooks("http"),
      }),
    ],
  });
  health.register("services", services);
  return run(services, {
    health,
    drainDelay: server.shutdownDelay,
    // counted from the end of the drain delay; the server's own cut-off first
    gracePeriod: gracePeriod + 1_000,
    signal: options.signal,
    onShutdown: [
      (code) =>
        app.shutdown(() => logger.info("stopped", { clean: code === 0 })),
    ],
    log: {
      info: (message) => logger.info(message),
      error: (message, error) => logger.error(message, { error }),
    },
  });
}
