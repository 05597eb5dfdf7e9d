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
 * `backend`, and brokers unless the backend is `memory`. The other settings
 * apply to NATS JetStream only and are `undefined` when unset: `@cqi/bus`
 * applies the defaults they name. Durations are milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { EventBusConfig } from "@cqi/config";
 *
 * const kafka: EventBusConfig = {
 *   backend: "kafka",
 *   brokers: ["kafka-1:9092", "kafka-2:9092"],
 *   consumerGroup: "cqpm",
 * };
 * const nats: EventBusConfig = {
 *   backend: "nats",
 *   brokers: ["nats-1:4222", "nats-2:4222"],
 *   consumerGroup: "cqpm",
 *   replicas: 3,
 *   backoff: [1_000, 10_000, 60_000],
 * };
 * ```
 */
export interface EventBusConfig {
  /** `kafka`, `nats` or `memory` (tests). Required. */
  backend: EventBusBackend;
  /** `host:port` of the Kafka brokers or NATS servers. Required unless `memory`. */
  brokers: string[];
  /** Kafka consumer group, or NATS durable consumer name prefix, if the service consumes. */
  consumerGroup?: string;
  /** NATS: user to connect as, if any. */
  username?: string;
  /** NATS: password of `username`, if any. */
  password?: Secret;
  /** NATS: token to authenticate with, if any. */
  token?: Secret;
  /** NATS: JetStream stream name. Default `CQC_EVENTS`. */
  stream?: string;
  /** NATS: subjects of the stream. Default `cqc.events.v1.>`. */
  subjects?: string[];
  /** NATS: milliseconds the stream keeps a message. Default 7 days. */
  maxAge?: number;
  /** NATS: largest size of the stream, in bytes. */
  maxBytes?: number;
  /** NATS: largest number of messages in the stream. */
  maxMessages?: number;
  /** NATS: copies of the stream in the cluster, 1 to 5. */
  replicas?: number;
  /** NATS: milliseconds in which a repeated event id is dropped. Default 2 min. */
  duplicateWindow?: number;
  /** NATS: deliveries of a message before it is dead-lettered. Default 10. */
  maxDeliver?: number;
  /** NATS: milliseconds a delivery waits for its acknowledgement before it is redelivered. Default 30 s. */
  ackWait?: number;
  /** NATS: most messages delivered and not yet acknowledged, per consumer. Default 1,000. */
  maxAckPending?: number;
  /** NATS: milliseconds before each redelivery of an unacknowledged message; fewer entries than `maxDeliver`. */
  backoff?: number[];
}

const STREAM_NAME = /^[^\s.*>/\\]*$/; // text() rejects ""

/** A JetStream stream name: 1–255 characters, none of them special. */
function streamName(): ConfigSchema<string> {
  return v.pipe(
    text(),
    v.maxLength(255, "expected a stream name of at most 255 characters"),
    v.regex(
      STREAM_NAME,
      'expected a stream name without whitespace, ".", "*", ">", "/" or "\\"',
    ),
  );
}

/** Why `subject` is no NATS subject (a stream may take wildcards), if it is not. */
function subjectProblem(subject: string): string | undefined {
  if (subject === "") return undefined; // text() reports it
  if (/\s/.test(subject)) return "expected a NATS subject without whitespace";
  const tokens = subject.split(".");
  if (tokens.includes("")) {
    return 'expected a NATS subject of non-empty tokens separated by "."';
  }
  for (const [index, token] of tokens.entries()) {
    if (token.includes(">") && (token !== ">" || index < tokens.length - 1)) {
      return 'expected ">" only as the last token of a NATS subject';
    }
    if (token.includes("*") && token !== "*") {
      return 'expected "*" only as a whole token of a NATS subject';
    }
  }
  return undefined;
}

/** A NATS subject, wildcards allowed. */
function subject(): ConfigSchema<string> {
  return v.pipe(
    text(),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const message = subjectProblem(dataset.value);
      if (message !== undefined) addIssue({ message });
    }),
  );
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
      "`host:port` of the Kafka brokers or NATS servers; required unless the backend is `memory`.",
    ),
    consumerGroup: optionalField(
      text(),
      "Kafka consumer group, or NATS durable consumer name prefix, if the service consumes.",
    ),
    username: optionalField(text(), "NATS: user to connect as, if any."),
    password: optionalField(secret(), "NATS: password of `username`, if any."),
    token: optionalField(secret(), "NATS: token to authenticate with, if any."),
    stream: optionalField(
      streamName(),
      "NATS: JetStream stream name; default `CQC_EVENTS`.",
    ),
    subjects: optionalField(
      list(subject()),
      "NATS: subjects of the stream; default `cqc.events.v1.>`.",
    ),
    maxAge: optionalField(
      duration(),
      "NATS: time the stream keeps a message; default 7 days.",
    ),
    maxBytes: optionalField(
      wholeNumber(1),
      "NATS: largest size of the stream, in bytes.",
    ),
    maxMessages: optionalField(
      wholeNumber(1),
      "NATS: largest number of messages in the stream.",
    ),
    replicas: optionalField(
      wholeNumber(1, 5),
      "NATS: copies of the stream in the cluster, 1 to 5.",
    ),
    duplicateWindow: optionalField(
      duration(),
      "NATS: time in which a repeated event id is dropped; default 2m.",
    ),
    maxDeliver: optionalField(
      wholeNumber(1),
      "NATS: deliveries of a message before it is dead-lettered; default 10.",
    ),
    ackWait: optionalField(
      duration(),
      "NATS: time a delivery waits for its acknowledgement before it is redelivered; default 30s.",
    ),
    maxAckPending: optionalField(
      wholeNumber(1),
      "NATS: most messages delivered and not yet acknowledged, per consumer; default 1000.",
    ),
    backoff: optionalField(
      list(duration()),
      "NATS: delays before each redelivery of an unacknowledged message; fewer entries than `max_deliver`.",
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
  v.forward(
    v.partialCheck(
      [["maxDeliver"], ["backoff"]],
      (bus) =>
        bus.maxDeliver === undefined || bus.backoff === undefined ||
        bus.maxDeliver > bus.backoff.length,
      (issue) =>
        `expected more than the number of backoff entries (${
          (issue.input as { backoff: unknown[] }).backoff.length
        }), as JetStream requires`,
    ),
    ["maxDeliver"],
  ),
);
