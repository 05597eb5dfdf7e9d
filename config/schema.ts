import * as v from "valibot";
import { type AuthConfig, authSchema } from "./auth_section.ts";
import {
  type CacheConfig,
  cacheSchema,
  type DatabaseConfig,
  databaseSchema,
  type EventBusConfig,
  eventBusSchema,
} from "./data_sections.ts";
import type { ConfigSchema } from "./valibot_adapter.ts";
import {
  type RetryConfig,
  retrySchema,
  type ServerConfig,
  serverSchema,
  type ServiceConfig,
  serviceSchema,
} from "./service_sections.ts";
import {
  type LogConfig,
  logSchema,
  type MetricsConfig,
  metricsSchema,
  type TracingConfig,
  tracingSchema,
} from "./telemetry_sections.ts";

/**
 * The configuration of a CQI service: what {@linkcode loadConfig} returns
 * without a `schema` option. Durations are milliseconds; secrets are
 * {@linkcode Secret}s. `database`, `cache`, `eventBus` and `auth` are
 * `undefined` when not configured.
 *
 * @example Usage
 * ```ts
 * import { type CqiConfig, loadConfig } from "@cqi/config";
 *
 * const config: CqiConfig = await loadConfig({
 *   env: { CQI_SERVICE_NAME: "cqpm" },
 *   envFile: false,
 * });
 * console.log(config.server.port, config.database); // 8080 undefined
 * ```
 */
export interface CqiConfig {
  /** Who the service is. Required. */
  service: ServiceConfig;
  /** The HTTP server. */
  server: ServerConfig;
  /** Logging (`logging` in files is accepted too). */
  log: LogConfig;
  /** Prometheus metrics; disabled when absent. */
  metrics: MetricsConfig;
  /** OpenTelemetry tracing; disabled when absent. */
  tracing: TracingConfig;
  /** Defaults for `@cqi/retry`. */
  retry: RetryConfig;
  /** PostgreSQL, if the service has a database. */
  database?: DatabaseConfig;
  /** Redis, if the service has a cache. */
  cache?: CacheConfig;
  /** The event bus, if the service publishes or consumes events. */
  eventBus?: EventBusConfig;
  /** Authentication of callers, if the service checks it. */
  auth?: AuthConfig;
}

/**
 * The type of {@linkcode cqiSections}: one schema per section, ready to be
 * spread into a service's own `v.object({...})`.
 *
 * @example Usage
 * ```ts
 * import type { CqiSections } from "@cqi/config";
 *
 * type Names = keyof CqiSections; // "service" | "server" | ...
 * ```
 */
export type CqiSections = {
  /** Required: the service name at least. */
  service: ConfigSchema<ServiceConfig>;
  /** Defaults when absent. */
  server: ConfigSchema<ServerConfig>;
  /** Defaults when absent. */
  log: ConfigSchema<LogConfig>;
  /** Disabled when absent. */
  metrics: ConfigSchema<MetricsConfig>;
  /** Disabled when absent. */
  tracing: ConfigSchema<TracingConfig>;
  /** Defaults when absent. */
  retry: ConfigSchema<RetryConfig>;
  /** `undefined` when absent. */
  database: ConfigSchema<DatabaseConfig | undefined>;
  /** `undefined` when absent. */
  cache: ConfigSchema<CacheConfig | undefined>;
  /** `undefined` when absent. */
  eventBus: ConfigSchema<EventBusConfig | undefined>;
  /** `undefined` when absent. */
  auth: ConfigSchema<AuthConfig | undefined>;
};

/**
 * The section schemas of CQI. Spread them into a `v.object` with a
 * service's own sections and pass that as `schema` to
 * {@linkcode loadConfig}; its result is typed from the schema.
 *
 * @example Usage
 * ```ts
 * import * as v from "valibot";
 * import { cqiSections, loadConfig } from "@cqi/config";
 *
 * const schema = v.object({
 *   ...cqiSections,
 *   positions: v.optional(v.object({ maxOpen: v.optional(v.number(), 50) }), {}),
 * });
 * const config = await loadConfig({
 *   schema,
 *   env: { CQI_SERVICE_NAME: "cqpm", CQI_POSITIONS_MAX_OPEN: "20" },
 *   envFile: false,
 * });
 * console.log(config.positions.maxOpen); // 20
 * ```
 */
export const cqiSections: CqiSections = {
  service: serviceSchema,
  server: v.optional(serverSchema, {}),
  log: v.optional(logSchema, {}),
  metrics: v.optional(metricsSchema, { enabled: false }),
  tracing: v.optional(tracingSchema, { enabled: false }),
  retry: v.optional(retrySchema, {}),
  database: v.optional(databaseSchema),
  cache: v.optional(cacheSchema),
  eventBus: v.optional(eventBusSchema),
  auth: v.optional(authSchema),
};

/**
 * The schema of {@linkcode CqiConfig}: `v.object(cqiSections)`. The default
 * of {@linkcode loadConfig}'s `schema` option.
 *
 * @example Usage
 * ```ts
 * import * as v from "valibot";
 * import { cqiSchema } from "@cqi/config";
 *
 * const config = v.parse(cqiSchema, { service: { name: "cqpm" } });
 * console.log(config.log.level); // "info"
 * ```
 */
export const cqiSchema: ConfigSchema<CqiConfig> = v.object(
  cqiSections,
  "expected a mapping",
);
