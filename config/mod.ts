/**
 * Typed configuration for CQI services: one validated object loaded from
 * defaults, a YAML or JSON file, a `.env` file and the environment, in that
 * order of precedence. Keys in files are snake_case (`max_connections`),
 * environment keys are `CQI_` plus the path (`CQI_DATABASE_MAX_CONNECTIONS`),
 * values are coerced to the schema's types (durations to milliseconds), file
 * values may use `${VAR}` and `${VAR:default}`, and `<KEY>_FILE` reads a
 * secret from a file. Secrets are {@linkcode Secret}s that print
 * `[REDACTED]`. Every problem is reported at once in a {@linkcode ConfigError}.
 *
 * @example Usage
 * ```ts
 * import * as v from "valibot";
 * import { cqiSections, loadConfig } from "@cqi/config";
 *
 * // The CQI sections plus the service's own.
 * const schema = v.object({
 *   ...cqiSections,
 *   positions: v.object({ maxOpen: v.optional(v.number(), 50) }),
 * });
 * const config = await loadConfig({
 *   schema,
 *   env: {
 *     CQI_SERVICE_NAME: "cqpm",
 *     CQI_DATABASE_HOST: "db.internal",
 *     CQI_DATABASE_DATABASE: "cqpm",
 *     CQI_DATABASE_PASSWORD: "hunter2",
 *     CQI_DATABASE_CONNECTION_TIMEOUT: "5s",
 *     CQI_POSITIONS_MAX_OPEN: "20",
 *   },
 *   envFile: false,
 * });
 * console.log(config.database?.connectionTimeout); // 5000
 * console.log(config.positions.maxOpen); // 20
 * console.log(JSON.stringify(config.database?.password)); // "[REDACTED]"
 * ```
 *
 * @module
 */
export { loadConfig, type LoadOptions, mustLoad } from "./load.ts";
export {
  type ConfigError,
  type ConfigProblem,
  type ConfigSource,
  isConfigError,
} from "./error.ts";
export { Secret, secret } from "./secret.ts";
export { duration, parseDuration } from "./duration.ts";
export type { ConfigSchema } from "./valibot_adapter.ts";
export {
  type CqiConfig,
  cqiSchema,
  type CqiSections,
  cqiSections,
} from "./schema.ts";
export type {
  RetryConfig,
  ServerConfig,
  ServiceConfig,
} from "./service_sections.ts";
export type {
  CacheConfig,
  DatabaseConfig,
  EventBusBackend,
  EventBusConfig,
  SslMode,
} from "./data_sections.ts";
export { SSL_MODES } from "./data_sections.ts";
export type {
  LogConfig,
  LogLevel,
  MetricsConfig,
  TracingConfig,
  TracingExporter,
} from "./telemetry_sections.ts";
export {
  type ApiKeyConfig,
  type AuthConfig,
  JWT_ALGORITHMS,
  type JwtConfig,
} from "./auth_section.ts";
export {
  type ConfigField,
  configFields,
  type ConfigFieldsOptions,
} from "./fields.ts";
