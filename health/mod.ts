/**
 * Health checks and the Kubernetes probe endpoints of a service.
 *
 * - {@linkcode createHealth} makes a registry: `register(name, checker)`,
 *   `unregister(name)`, `check(signal)`.
 * - Handlers for `router` from `@cqi/http`: `live` (`/health/live`, no
 *   checks), `ready` (`/health/ready`, every checker concurrently under a
 *   timeout, cached for 1 s, 200 or 503) and `startup` (`/health/startup`,
 *   503 until `markStarted()`); `routes()` returns all three.
 * - `beginShutdown()` turns readiness to 503 at once.
 * - Optional metrics (`{ns}_health_check_duration_seconds`,
 *   `{ns}_health_check_failures_total`) and `warn` logs of failures.
 *
 * @example Usage
 * ```ts
 * import { router, serve } from "@cqi/http";
 * import { createHealth } from "@cqi/health";
 *
 * await using health = createHealth();
 * health.register("database", () => Promise.resolve());
 * await using server = serve(router(health.routes()), {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/health/ready`);
 * console.log(res.status, await res.json());
 * // 200 { status: "healthy", checks: { database: "ok" } }
 * ```
 *
 * @module
 */
export type { Checker, CheckFn } from "./checker.ts";
export {
  createHealth,
  type Health,
  type HealthOptions,
  type HealthReport,
} from "./health.ts";
export type { HealthLogger, HealthMetrics } from "./ports.ts";
