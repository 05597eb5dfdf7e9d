/**
 * Service lifecycle for CQI processes.
 *
 * - {@linkcode Service}: `{ name, start(signal), stop(signal), check?, dependsOn? }`;
 *   HTTP servers, database, cache and bus clients all fit it.
 * - {@linkcode createRunner}: starts services in dependency order (with optional
 *   start delays), rolls back on a failed start, checks them every second,
 *   restarts failed ones by policy (`never`, `always`, `on-failure`; 5
 *   attempts, 1 s → 60 s backoff ×2 ±25%), stops them in reverse order,
 *   and reports an aggregate status. A runner is a `Service`, so runners nest.
 * - {@linkcode httpService}: `serve` from `@cqi/http` as a service.
 * - {@linkcode run}: the one signal path: SIGTERM/SIGINT → readiness 503 →
 *   drain delay → stop in reverse within the grace period → shutdown hooks →
 *   exit code.
 * - {@linkcode bootstrap}: the logger, metrics registry, tracing and health
 *   registry from the config in one call, with LIFO shutdown hooks.
 * - {@linkcode retryHooks}, {@linkcode breakerHooks}, {@linkcode serverHooks},
 *   {@linkcode databaseHooks}, {@linkcode cacheHooks}, {@linkcode busHooks}:
 *   retries, breaker state changes, server errors, database statements,
 *   cache commands, hits and loads, and bus deliveries, publishes and dead
 *   letters reported to a logger, a metrics registry and traces (`bootstrap`
 *   gives them bound to its own); {@linkcode withLogging} and
 *   {@linkcode withMetrics} are the bus middleware alone.
 *
 * @example Usage
 * ```ts
 * import { createHealth } from "@cqi/health";
 * import { router } from "@cqi/http";
 * import { httpService, run, createRunner } from "@cqi/service";
 *
 * const health = createHealth();
 * const app = createRunner({
 *   services: [httpService(router(health.routes()), { port: 0, hostname: "127.0.0.1" })],
 * });
 * health.register("services", app);
 *
 * const shutdown = new AbortController(); // in production: SIGTERM
 * setTimeout(() => shutdown.abort(), 10);
 * const code = await run(app, {
 *   health,
 *   signal: shutdown.signal,
 *   onShutdown: [() => health.close()],
 *   log: { info() {}, error() {} },
 * });
 * console.log(code); // 0
 * ```
 *
 * @module
 */
export type { Service } from "./service.ts";
export {
  createRunner,
  type RestartPolicy,
  type Runner,
  type RunnerEvent,
  type RunnerOptions,
  type RunnerStatus,
  type ServiceEntry,
  type ServiceState,
} from "./runner.ts";
export {
  type HttpService,
  httpService,
  type HttpServiceAddr,
  type HttpServiceOptions,
} from "./http_service.ts";
export { run, type RunOptions } from "./run.ts";
export {
  breakerHooks,
  type ObserveOptions,
  retryHooks,
  serverHooks,
} from "./observe.ts";
export {
  databaseHooks,
  type DatabaseObserveOptions,
} from "./database_hooks.ts";
export { cacheHooks, type CacheObserveOptions } from "./cache_hooks.ts";
export {
  busHooks,
  type BusObserveOptions,
  withLogging,
  withMetrics,
} from "./bus_hooks.ts";
export {
  httpClientHooks,
  type HttpClientObserveOptions,
} from "./httpclient_hooks.ts";
export { httpStack, type HttpStackOptions } from "./http_stack.ts";
export { authFromConfig, type AuthSection } from "./auth_from_config.ts";
export {
  type Bootstrap,
  bootstrap,
  type BootstrapConfig,
  type BootstrapOptions,
  type BootstrapRunOptions,
} from "./bootstrap.ts";
