import * as v from "valibot";
import { duration } from "./duration.ts";
import {
  list,
  oneOf,
  optionalField,
  port,
  requiredField,
  text,
  wholeNumber,
  withDefault,
} from "./field_schemas.ts";
import type { ConfigSchema } from "./valibot_adapter.ts";
import { type Secret, secret } from "./secret.ts";

/**
 * PostgreSQL `sslmode` values.
 *
 * @example Usage
 * ```ts
 * import type { SslMode } from "@cqi/config";
 *
 * const mode: SslMode = "verify-full";
 * ```
 */
export type SslMode =
  | "disable"
  | "allow"
  | "prefer"
  | "require"
  | "verify-ca"
  | "verify-full";

/**
 * Every {@linkcode SslMode}, in libpq's order: the one list the config
 * schema and `@cqi/database`'s URL check share.
 *
 * @example Usage
 * ```ts
 * import { SSL_MODES } from "@cqi/config";
 *
 * console.log(SSL_MODES.includes("verify-full")); // true
 * ```
 */
export const SSL_MODES: readonly SslMode[] = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
];

/**
 * The `database` section (PostgreSQL). When present it needs `host` and
 * `database`; when absent the service has no database. Durations are
 * milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { DatabaseConfig } from "@cqi/config";
 *
 * function dsn(db: DatabaseConfig): string {
 *   const auth = db.password ? `${db.user}:${db.password.reveal()}` : db.user;
 *   return `postgres://${auth}@${db.host}:${db.port}/${db.database}?sslmode=${db.sslMode}`;
 * }
 * ```
 */
export interface DatabaseConfig {
  /** Server host name or address. Required. */
  host: string;
  /** Server port. Default 5432. */
  port: number;
  /** Database name. Required. */
  database: string;
  /** User to connect as. Default `postgres`. */
  user: string;
  /** Password of `user`, if any. */
  password?: Secret;
  /** Largest number of pooled connections. Default 25. */
  maxConnections: number;
  /** Connections kept open when idle. Default 2. */
  minConnections: number;
  /** Milliseconds allowed to open a connection. Default 30 s. */
  connectionTimeout: number;
  /** Milliseconds allowed for one query. Default 30 s. */
  queryTimeout: number;
  /** Milliseconds after which an idle connection above `minConnections` closes. Default 10 min. */
  idleTimeout: number;
  /** Milliseconds after which a connection is replaced. Default 1 h. */
  maxLifetime: number;
  /** TLS mode, as libpq's `sslmode`. Default `prefer`. */
  sslMode: SslMode;
}

/** Schema of {@linkcode DatabaseConfig}. */
export const databaseSchema: ConfigSchema<DatabaseConfig> = v.pipe(
  v.object({
    host: requiredField(text(), "Server host name or address."),
    port: withDefault(port(), 5432, "Server port."),
    database: requiredField(text(), "Database name."),
    user: withDefault(text(), "postgres", "User to connect as."),
    password: optionalField(secret(), "Password of `user`, if any."),
    maxConnections: withDefault(
      wholeNumber(1),
      25,
      "Largest number of pooled connections.",
    ),
    minConnections: withDefault(
      wholeNumber(0),
      2,
      "Connections kept open when idle (at most `max_connections`).",
    ),
    connectionTimeout: withDefault(
      duration(),
      "30s",
      "Time allowed to open a connection.",
    ),
    queryTimeout: withDefault(duration(), "30s", "Time allowed for one query."),
    idleTimeout: withDefault(
      duration(),
      "10m",
      "Time after which an idle connection above `min_connections` closes.",
    ),
    maxLifetime: withDefault(
      duration(),
      "1h",
      "Time after which a connection is replaced (spread by up to a third).",
    ),
    sslMode: withDefault(
      oneOf(SSL_MODES),
      "prefer",
      "TLS mode, as libpq's `sslmode`.",
    ),
  }, "expected a mapping"),
  v.forward(
    v.partialCheck(
      [["minConnections"], ["maxConnections"]],
      (db) => db.minConnections <= db.maxConnections,
      "expected at most maxConnections",
    ),
    ["minConnections"],
  ),
);

/**
 * The `cache` section (Redis). When present it needs `host`; when absent
 * the service has no cache. Durations are milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { CacheConfig } from "@cqi/config";
 *
 * const url = (c: CacheConfig) => `redis://${c.host}:${c.port}/${c.database}`;
 * ```
 */
export interface CacheConfig {
  /** Server host name or address. Required. */
  host: string;
  /** Server port. Default 6379. */
  port: number;
  /** Password (Redis `AUTH`), if any. */
  password?: Secret;
  /** Database index. Default 0. */
  database: number;
  /** Milliseconds allowed to open a connection. Default 5 s. */
  connectionTimeout: number;
  /** Milliseconds allowed for a read. Default 3 s. */
  readTimeout: number;
  /** Milliseconds allowed for a write. Default 3 s. */
  writeTimeout: number;
  /** Largest number of pooled connections. Default 10. */
  poolSize: number;
  /** Connections kept open when idle. Default 2. */
  minIdleConnections: number;
}

/** Schema of {@linkcode CacheConfig}. */
export const cacheSchema: ConfigSchema<CacheConfig> = v.pipe(
  v.object({
    host: requiredField(text(), "Server host name or address."),
    port: withDefault(port(), 6379, "Server port."),
    password: optionalField(secret(), "Password (Redis `AUTH`), if any."),
    database: withDefault(wholeNumber(0), 0, "Database index."),
    connectionTimeout: withDefault(
      duration(),
      "5s",
      "Time allowed to open a connection.",
    ),
    readTimeout: withDefault(duration(), "3s", "Time allowed for a read."),
    writeTimeout: withDefault(duration(), "3s", "Time allowed for a write."),
    poolSize: withDefault(
      wholeNumber(1),
      10,
      "Largest number of pooled connections.",
    ),
    minIdleConnections: withDefault(
      wholeNumber(0),
      2,
      "Connections kept open when idle (at most `pool_size`).",
    ),
  }, "expected a mapping"),
  v.forward(
    v.partialCheck(
      [["minIdleConnections"], ["poolSize"]],
      (cache) => cache.minIdleConnections <= cache.poolSize,
      "expected at most poolSize",
    ),
    ["minIdleConnections"],
  ),
);

/**
 * Event bus backends.
 *
 * @example Usage
 * ```ts
 * import type { EventBusBackend } from "@cqi/config";
 *
 * const backend: EventBusBackend = "memory";
 * ```
 */
export type EventBusBackend = "kafka" | "nats" | "memory";

/**
 * The `eventBus` section (`event_bus` in files). When present it needs a
 * `backend`, and brokers unless the backend is `memory`.
 *
 * @example Usage
 * ```ts
 * import type { EventBusConfig } from "@cqi/config";
 *
 * const bus: EventBusConfig = {
 *   backend: "kafka",
 *   brokers: ["kafka-1:9092", "kafka-2:9092"],
 *   consumerGroup: "cqpm",
 * };
 * ```
 */
export interface EventBusConfig {
  /** `kafka`, `nats` or `memory` (tests). Required. */
  backend: EventBusBackend;
  /** Broker addresses (`host:port`). Required unless `memory`. */
  brokers: string[];
  /** Consumer group (Kafka) or durable name (NATS), if the service consumes. */
  consumerGroup?: string;
}

/** Schema of {@linkcode EventBusConfig}. */
export const eventBusSchema: ConfigSchema<EventBusConfig> = v.pipe(
  v.object({
    backend: requiredField(
      oneOf(["kafka", "nats", "memory"] as const),
      "`kafka`, `nats` or `memory` (for tests).",
    ),
    brokers: withDefault(
      list(text()),
      [],
      "Broker addresses (`host:port`); required unless the backend is `memory`.",
    ),
    consumerGroup: optionalField(
      text(),
      "Consumer group (Kafka) or durable name (NATS), if the service consumes.",
    ),
  }, "expected a mapping"),
  v.forward(
    v.partialCheck(
      [["backend"], ["brokers"]],
      (bus) => bus.backend === "memory" || bus.brokers.length > 0,
      "expected at least one broker for this backend",
    ),
    ["brokers"],
  ),
);
