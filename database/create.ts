import { type DatabaseConfig, SSL_MODES as sslModes } from "@cqi/config";
import type { ServiceIdentity } from "@cqi/http";
import { pgliteDriver } from "./backends/pglite.ts";
import { postgresDriver, type PostgresSettings } from "./backends/postgres.ts";
import { Client } from "./client.ts";
import { checkTimeout } from "./statement.ts";
import type { DatabaseHooks } from "./hooks.ts";
import type { Database } from "./types.ts";

/**
 * Options of {@linkcode createDatabase}: hooks, the service it works for,
 * and pool settings that override the config's (or a URL's defaults).
 * Durations are milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { DatabaseOptions } from "@cqi/database";
 *
 * const options: DatabaseOptions = { service: { name: "cqpm" }, queryTimeout: 5_000 };
 * ```
 */
export interface DatabaseOptions extends DatabaseHooks {
  /** Its name becomes the connections' `application_name` (seen in `pg_stat_activity`). */
  service?: ServiceIdentity;
  /** Largest number of pooled connections. Default 25 (PGlite: always 1). */
  maxConnections?: number;
  /** Connections kept open once the pool is used. Default 0 (the config's: 2). */
  minConnections?: number;
  /** Time allowed to open a connection. Default 30 s. */
  connectionTimeout?: number;
  /** Default timeout of a statement, and of a transaction as a whole. Default 30 s. */
  queryTimeout?: number;
  /** An idle connection above `minConnections` is closed after this long. Default 10 min. */
  idleTimeout?: number;
  /** A connection is replaced after this long (with some jitter). Default 1 h. */
  maxLifetime?: number;
  /** How long `close()` waits for running calls before cancelling them. Default 5 s. */
  closeTimeout?: number;
}

/** The URL schemes {@linkcode createDatabase} takes. */
const SCHEMES = ["postgres:", "postgresql:", "pglite:", "memory:"];
const SSL_MODES: ReadonlySet<string> = new Set(sslModes);
const URL_PARAMS = new Set(["sslmode", "application_name"]);

/**
 * Opens a database, chosen by what it is given:
 * - nothing, `pglite://` or `memory://`: an embedded PGlite instance in
 *   memory (the default of examples and tests: real PostgreSQL, no server);
 * - `pglite:///absolute/dir`: PGlite keeping its data in that directory;
 * - a `database` section of `@cqi/config`, or a `postgres://user:pass@host:port/db?sslmode=…`
 *   URL: a postgres.js pool to that server.
 *
 * Nothing connects until the first call; `check()` (wired to readiness)
 * tells whether the database can be reached. Close it with `close()` or
 * `await using`.
 *
 * @example Embedded, in memory
 * ```ts
 * import { createDatabase } from "@cqi/database";
 *
 * await using db = createDatabase();
 * const row = await db.queryRow<{ sum: number }>("select $1::int + $2::int as sum", [2, 3]);
 * console.log(row.sum); // 5
 * ```
 *
 * @example A server, from the config
 * ```ts ignore
 * import { mustLoad } from "@cqi/config";
 * import { createDatabase } from "@cqi/database";
 *
 * const config = await mustLoad();
 * await using db = createDatabase(config.database, { service: config.service });
 * ```
 *
 * @param source A config section, a URL, or nothing for PGlite in memory.
 * @param options Hooks, the service identity and pool overrides.
 * @returns The database.
 */
export function createDatabase(
  source?: DatabaseConfig | string | URL,
  options: DatabaseOptions = {},
): Database {
  const config = typeof source === "object" && !(source instanceof URL)
    ? source
    : undefined;
  const settings = {
    queryTimeout: timeoutOption(
      options.queryTimeout ?? config?.queryTimeout,
      30_000,
      "queryTimeout",
    ),
    closeTimeout: closeTimeoutOption(options.closeTimeout),
    hooks: { onQuery: options.onQuery, onPool: options.onPool },
  };
  for (const [name, hook] of Object.entries(settings.hooks)) {
    if (hook !== undefined && typeof hook !== "function") {
      throw new TypeError(`createDatabase: ${name} must be a function`);
    }
  }
  if (source === undefined) {
    return new Client(pgliteDriver(undefined), settings);
  }
  if (typeof source === "string" || source instanceof URL) {
    const url = parseUrl(source);
    if (url.protocol === "pglite:" || url.protocol === "memory:") {
      return new Client(pgliteDriver(pgliteDir(url)), settings);
    }
    return new Client(
      postgresDriver(postgresFromUrl(url, options)),
      settings,
    );
  }
  if (typeof source !== "object" || source === null) {
    throw new TypeError(
      "createDatabase: expected a database config section, a URL or nothing",
    );
  }
  return new Client(
    postgresDriver(postgresFromConfig(source, options)),
    settings,
  );
}

function parseUrl(source: string | URL): URL {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    // Never echo the text: it may hold a password.
    throw new TypeError(
      `createDatabase: the database URL does not parse (expected ${
        SCHEMES.map((s) => `${s}//`).join(", ")
      })`,
    );
  }
  if (!SCHEMES.includes(url.protocol)) {
    throw new TypeError(
      `createDatabase: unsupported scheme ${
        JSON.stringify(url.protocol)
      } (expected ${SCHEMES.map((s) => `${s}//`).join(", ")})`,
    );
  }
  return url;
}

function pgliteDir(url: URL): string | undefined {
  if (url.username !== "" || url.password !== "" || url.search !== "") {
    throw new TypeError(
      `createDatabase: a ${url.protocol}// URL takes no user, password or parameters`,
    );
  }
  if (url.host !== "") {
    throw new TypeError(
      `createDatabase: ${url.protocol}//${url.host}… names a host; write ${url.protocol}// for memory or ${url.protocol}///absolute/dir for a directory`,
    );
  }
  if (url.protocol === "memory:" && url.pathname !== "") {
    throw new TypeError("createDatabase: memory:// takes no path");
  }
  if (url.pathname !== "" && !url.pathname.startsWith("/")) {
    throw new TypeError(
      `createDatabase: a ${url.protocol} directory must be absolute: ${url.protocol}///absolute/dir`,
    );
  }
  return url.pathname === "" || url.pathname === "/"
    ? undefined
    : decode(url.pathname, "path");
}

// Percent-decoding that names the part it failed on, never its text (a
// password, say).
function decode(text: string, part: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new TypeError(
      `createDatabase: the URL's ${part} has malformed percent-encoding`,
    );
  }
}

function postgresFromUrl(
  url: URL,
  options: DatabaseOptions,
): PostgresSettings {
  for (const key of url.searchParams.keys()) {
    if (!URL_PARAMS.has(key)) {
      // Not named: with a "?" in an unescaped password, the "parameter" is
      // the rest of the password.
      throw new TypeError(
        `createDatabase: a URL parameter is not supported (supported: ${
          [...URL_PARAMS].join(", ")
        }; the rest are options; percent-encode ? # / @ in a password)`,
      );
    }
  }
  const sslMode = url.searchParams.get("sslmode") ?? "prefer";
  if (!SSL_MODES.has(sslMode)) {
    throw new TypeError(
      `createDatabase: sslmode must be one of ${[...SSL_MODES].join(", ")}`,
    );
  }
  const database = decode(url.pathname.slice(1), "database name");
  if (url.hostname === "" || database === "" || database.includes("/")) {
    throw new TypeError(
      "createDatabase: a postgres:// URL needs a host and a database: postgres://user:password@host:5432/database",
    );
  }
  return pool(options, {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: checkPort(url.port === "" ? 5432 : Number(url.port)),
    database,
    user: url.username === "" ? "postgres" : decode(url.username, "user"),
    password: url.password === ""
      ? undefined
      : decode(url.password, "password"),
    sslMode,
    applicationName: url.searchParams.get("application_name") ??
      options.service?.name,
  });
}

function postgresFromConfig(
  config: DatabaseConfig,
  options: DatabaseOptions,
): PostgresSettings {
  for (const field of ["host", "database"] as const) {
    if (typeof config[field] !== "string" || config[field] === "") {
      throw new TypeError(`createDatabase: config.${field} must be set`);
    }
  }
  const fromConfig: DatabaseOptions = {
    maxConnections: config.maxConnections,
    minConnections: config.minConnections,
    connectionTimeout: config.connectionTimeout,
    idleTimeout: config.idleTimeout,
    maxLifetime: config.maxLifetime,
  };
  return pool({ ...stripUndefined(fromConfig), ...stripUndefined(options) }, {
    host: config.host,
    port: checkPort(config.port ?? 5432),
    database: config.database,
    user: config.user ?? "postgres",
    // a Secret from @cqi/config, or a plain string from a hand-made section
    password: typeof config.password === "string"
      ? config.password
      : config.password?.reveal(),
    sslMode: config.sslMode ?? "prefer",
    applicationName: options.service?.name,
  });
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(
      `createDatabase: the server port must be from 1 to 65535, got ${port}`,
    );
  }
  return port;
}

// Pool settings from the options, defaulted and checked.
function pool(
  options: DatabaseOptions,
  server: Pick<
    PostgresSettings,
    | "host"
    | "port"
    | "database"
    | "user"
    | "password"
    | "sslMode"
    | "applicationName"
  >,
): PostgresSettings {
  const maxConnections = options.maxConnections ?? 25;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new RangeError(
      `createDatabase: maxConnections must be an integer >= 1, got ${maxConnections}`,
    );
  }
  const minConnections = options.minConnections ?? 0;
  if (
    !Number.isInteger(minConnections) || minConnections < 0 ||
    minConnections > maxConnections
  ) {
    throw new RangeError(
      `createDatabase: minConnections must be an integer from 0 to maxConnections (${maxConnections}), got ${minConnections}`,
    );
  }
  return {
    ...server,
    maxConnections,
    minConnections,
    connectionTimeout: positive(
      options.connectionTimeout,
      30_000,
      "connectionTimeout",
    ),
    idleTimeout: positive(options.idleTimeout, 600_000, "idleTimeout"),
    maxLifetime: positive(options.maxLifetime, 3_600_000, "maxLifetime"),
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

// A pool setting in milliseconds: finite, above 0, within a timer's range.
function positive(
  value: number | undefined,
  fallback: number,
  name: string,
): number {
  if (value === undefined) return fallback;
  if (!(value > 0 && value <= 2 ** 31 - 1)) {
    throw new RangeError(
      `createDatabase: ${name} must be milliseconds from 1 to ${
        2 ** 31 - 1
      }, got ${value}`,
    );
  }
  return value;
}

function timeoutOption(
  value: number | undefined,
  fallback: number,
  name: string,
): number {
  if (value === undefined) return fallback;
  checkTimeout(value, `createDatabase: ${name}`);
  return value;
}

function closeTimeoutOption(value: number | undefined): number {
  if (value === undefined) return 5_000;
  if (value !== 0) checkTimeout(value, "createDatabase: closeTimeout");
  return value;
}
