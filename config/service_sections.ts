import * as v from "valibot";
import { duration } from "./duration.ts";
import {
  between,
  optionalField,
  port,
  requiredField,
  text,
  wholeNumber,
  withDefault,
} from "./field_schemas.ts";
import type { ConfigSchema } from "./valibot_adapter.ts";

/**
 * The `service` section: who the service is. Required: every service has a
 * name (the file may also give it as a top-level `service_name`).
 *
 * @example Usage
 * ```ts
 * import type { ServiceConfig } from "@cqi/config";
 *
 * const service: ServiceConfig = {
 *   name: "cqpm",
 *   version: "1.4.0",
 *   environment: "production",
 * };
 * ```
 */
export interface ServiceConfig {
  /** Service name, used in logs, metric names and traces. */
  name: string;
  /** Release version. Default `0.0.0`. */
  version: string;
  /** Deployment environment. Default `development`. */
  environment: string;
}

/** Schema of {@linkcode ServiceConfig}. */
export const serviceSchema: ConfigSchema<ServiceConfig> = v.object({
  name: requiredField(
    text(),
    "Service name, used in logs, metric names and traces (file: also top-level `service_name`).",
  ),
  version: withDefault(text(), "0.0.0", "Release version."),
  environment: withDefault(
    text(),
    "development",
    "Deployment environment, such as `development`, `staging` or `production`.",
  ),
}, "expected a mapping");

/**
 * The `server` section: the HTTP server. All fields have defaults;
 * durations are milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { ServerConfig } from "@cqi/config";
 *
 * const server: ServerConfig = {
 *   host: "0.0.0.0",
 *   port: 8080,
 *   idleTimeout: 10_000,
 *   shutdownTimeout: 30_000,
 *   shutdownDelay: 5_000, // behind a Kubernetes Service
 * };
 * ```
 */
export interface ServerConfig {
  /** Interface to listen on. Default `0.0.0.0`. */
  host: string;
  /** Port to listen on. Default 8080. */
  port: number;
  /**
   * Milliseconds a connection may be idle before the server closes it (Bun,
   * whole seconds up to 255; `0`: never). `Deno.serve` has no connection
   * timeouts: on Deno a proxy in front must bound them. Default 10 s.
   */
  idleTimeout: number;
  /** Milliseconds in-flight requests get to finish on shutdown. Default 30 s. */
  shutdownTimeout: number;
  /**
   * Milliseconds between readiness failing and the listener closing, while
   * requests are still served, so that load balancers stop routing here
   * first; the grace period (`shutdownTimeout`) starts after it. Default 0.
   */
  shutdownDelay: number;
}

/** Schema of {@linkcode ServerConfig}. */
export const serverSchema: ConfigSchema<ServerConfig> = v.object({
  host: withDefault(text(), "0.0.0.0", "Interface to listen on."),
  port: withDefault(port(true), 8080, "Port to listen on; 0 picks a free one."),
  idleTimeout: withDefault(
    v.pipe(
      duration({ allowZero: true }),
      v.maxValue(255_000, "expected at most 255s"),
    ),
    "10s",
    "Time a connection may be idle before it is closed (Bun; at most 255s; 0 never). Deno has no such timeout: bound it in a proxy.",
  ),
  shutdownTimeout: withDefault(
    duration(),
    "30s",
    "Grace period for in-flight requests on shutdown.",
  ),
  shutdownDelay: withDefault(
    duration({ allowZero: true }),
    "0s",
    "Time readiness fails before the listener closes, requests still served; the grace period follows.",
  ),
}, "expected a mapping");

/**
 * The `retry` section: defaults for `@cqi/retry`. Durations are
 * milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { RetryConfig } from "@cqi/config";
 *
 * const retry: RetryConfig = {
 *   maxAttempts: 10,
 *   initialDelay: 100,
 *   maxDelay: 5_000,
 *   multiplier: 2,
 *   jitter: 0.25,
 * };
 * ```
 */
export interface RetryConfig {
  /** Attempts in all, the first included. Default 10. */
  maxAttempts: number;
  /** Milliseconds before the first retry. Default 100. */
  initialDelay: number;
  /** Upper bound of a delay in milliseconds. Default 5 s. */
  maxDelay: number;
  /** Growth factor of the delay. Default 2. */
  multiplier: number;
  /** Random spread of each delay, as a fraction (0.25 = ±25%). Default 0.25. */
  jitter: number;
  /** Milliseconds after which no retry starts. Default: no limit. */
  maxElapsed?: number;
}

/** Schema of {@linkcode RetryConfig}. */
export const retrySchema: ConfigSchema<RetryConfig> = v.pipe(
  v.object({
    maxAttempts: withDefault(
      wholeNumber(1),
      10,
      "Attempts in all, the first included.",
    ),
    initialDelay: withDefault(
      duration(),
      "100ms",
      "Delay before the first retry.",
    ),
    maxDelay: withDefault(duration(), "5s", "Upper bound of a delay."),
    multiplier: withDefault(between(1, 100), 2, "Growth factor of the delay."),
    jitter: withDefault(
      between(0, 1),
      0.25,
      "Random spread of each delay as a fraction (0.25 = ±25%).",
    ),
    maxElapsed: optionalField(
      duration(),
      "Time after which no retry starts; unset: no limit.",
    ),
  }, "expected a mapping"),
  v.forward(
    v.partialCheck(
      [["initialDelay"], ["maxDelay"]],
      (retry) => retry.initialDelay <= retry.maxDelay,
      "expected initialDelay to be at most maxDelay",
    ),
    ["initialDelay"],
  ),
);
