import {
  durationBuckets,
  type HistogramSeries,
  type MetricsRegistry,
} from "@cqi/metrics";
import { startSpan } from "@cqi/tracing";
import type { ObserveOptions } from "./observe.ts";

/**
 * Where {@linkcode databaseHooks} reports, and what it counts as slow.
 *
 * @example Usage
 * ```ts
 * import type { DatabaseObserveOptions } from "@cqi/service";
 *
 * const options: DatabaseObserveOptions = { slowQuery: 500, tracing: false };
 * ```
 */
export interface DatabaseObserveOptions extends ObserveOptions {
  /** Milliseconds from which a statement is logged as slow. Default 200. */
  slowQuery?: number;
  /** Whether each statement becomes a client span (when tracing is set up). Default true. */
  tracing?: boolean;
}

// A statement as `@cqi/database` describes it to its hooks, and its pool
// counts (written out in the signature below: service does not import the
// database module, which sits above it).
type QueryInfo = Parameters<ReturnType<typeof databaseHooks>["onQuery"]>[0];
type PoolStats = ReturnType<
  Parameters<ReturnType<typeof databaseHooks>["onPool"]>[0]
>;

/**
 * The hooks of `createDatabase()` from `@cqi/database`, reporting the
 * database named `database`:
 * - `{ns}_db_query_duration_seconds{database, operation, outcome}`, where
 *   outcome is `ok` or the error's kind (`conflict`, `timeout`, ...);
 * - a `warn` line `slow query` (operation, statement text without
 *   parameters, `duration_ms`, `rows` or the error) from `slowQuery` ms on;
 * - a client span per statement named after its operation, with
 *   OpenTelemetry's `db.system.name`, `db.operation.name`, `db.query.text`,
 *   `db.namespace`, `server.address` and `server.port`, and on failure the
 *   error and `db.response.status_code` (the SQLSTATE);
 * - pool gauges read at scrape time: `{ns}_db_pool_connections{database,
 *   state="idle"|"busy"}`, `{ns}_db_pool_waiting{database}` and
 *   `{ns}_db_pool_max_connections{database}`.
 *
 * Parameters never reach a log line, a metric or a span. `bootstrap()` gives
 * one bound to its logger and registry.
 *
 * @example Usage
 * ```ts
 * import { createDatabase } from "@cqi/database";
 * import { createRegistry } from "@cqi/metrics";
 * import { databaseHooks } from "@cqi/service";
 *
 * const registry = createRegistry({ namespace: "cqpm" });
 * await using db = createDatabase("pglite://", databaseHooks("main", { registry }));
 * await db.query("select 1");
 * console.log((await registry.metrics()).includes(
 *   'cqpm_db_query_duration_seconds_count{database="main",operation="SELECT",outcome="ok"} 1',
 * )); // true
 * ```
 *
 * @param database A low-cardinality name for the database, such as `main`.
 * @param options The logger and registry, the slow threshold, tracing.
 * @returns `{ onQuery, onPool }`, to spread into the `createDatabase` options.
 */
export function databaseHooks(
  database: string,
  options: DatabaseObserveOptions = {},
): {
  onQuery: (
    info: {
      operation: string;
      text: string;
      system: string;
      namespace?: string;
      serverAddress?: string;
      serverPort?: number;
    },
    run: () => Promise<number>,
  ) => Promise<number>;
  onPool: (
    stats: () => { total: number; idle: number; waiting: number; max: number },
  ) => void;
} {
  if (typeof database !== "string" || database === "") {
    throw new TypeError("databaseHooks: database must be a non-empty string");
  }
  const slow = options.slowQuery ?? 200;
  if (!(slow >= 0)) {
    throw new RangeError(
      `databaseHooks: slowQuery must be milliseconds >= 0, got ${slow}`,
    );
  }
  const { logger, registry } = options;
  const durations = registry?.histogram({
    name: "db_query_duration_seconds",
    help:
      "Duration of database statements (waiting for a connection included), by operation and outcome (ok or the error kind).",
    labelNames: ["database", "operation", "outcome"],
    buckets: durationBuckets,
  });

  // One series per operation and outcome, looked up once (the label set of
  // each observation would otherwise be rebuilt and hashed every time).
  const series = new Map<string, HistogramSeries>();
  const record = (operation: string, outcome: string, seconds: number) => {
    if (durations === undefined) return;
    const key = `${operation}\0${outcome}`;
    let found = series.get(key);
    if (found === undefined) {
      found = durations.labels({ database, operation, outcome });
      series.set(key, found);
    }
    found.observe(seconds);
  };
  const report = (
    info: QueryInfo,
    started: number,
    rows: number | undefined,
    error: unknown,
  ) => {
    const ms = performance.now() - started;
    record(
      info.operation,
      error === undefined ? "ok" : kindOf(error),
      ms / 1000,
    );
    if (ms >= slow && logger !== undefined) {
      logger.warn("slow query", {
        database,
        operation: info.operation,
        statement: info.text,
        duration_ms: Math.round(ms),
        ...(error === undefined ? { rows } : { error }),
      });
    }
  };
  const measure = (info: QueryInfo, run: () => Promise<number>) => {
    const started = performance.now();
    return run().then((rows) => {
      report(info, started, rows, undefined);
      return rows;
    }, (error) => {
      report(info, started, undefined, error);
      throw error;
    });
  };

  const onQuery = options.tracing === false ? measure : (
    info: QueryInfo,
    run: () => Promise<number>,
  ) =>
    startSpan(
      info.namespace === undefined
        ? info.operation
        : `${info.operation} ${info.namespace}`,
      async (span) => {
        try {
          return await measure(info, run);
        } catch (error) {
          const state = (error as { sqlState?: unknown } | null)?.sqlState;
          if (typeof state === "string" && span.isRecording()) {
            span.setAttribute("db.response.status_code", state);
          }
          throw error;
        }
      },
      spanAttributes(info),
      { kind: "client" },
    );

  return {
    onQuery,
    onPool: (stats) => {
      if (registry !== undefined) poolsOf(registry).set(database, stats);
    },
  };
}

// The pools reported to each registry, by database name: one set of gauges
// per registry, read at scrape time (a second database with one name takes
// the place of the first).
const pools = new WeakMap<
  MetricsRegistry,
  Map<string, () => PoolStats>
>();

function poolsOf(registry: MetricsRegistry): Map<string, () => PoolStats> {
  let map = pools.get(registry);
  if (map !== undefined) return map;
  const found = new Map<string, () => PoolStats>();
  pools.set(registry, found);
  map = found;
  const each = (fn: (database: string, stats: PoolStats) => void) => {
    for (const [database, stats] of found) fn(database, stats());
  };
  registry.gauge({
    name: "db_pool_connections",
    help: "Open database connections, by state (idle or busy).",
    labelNames: ["database", "state"],
    collect: (gauge) =>
      each((database, { total, idle }) => {
        gauge.set({ database, state: "idle" }, idle);
        gauge.set({ database, state: "busy" }, total - idle);
      }),
  });
  registry.gauge({
    name: "db_pool_waiting",
    help: "Database calls waiting for a connection.",
    labelNames: ["database"],
    collect: (gauge) =>
      each((database, { waiting }) => gauge.set({ database }, waiting)),
  });
  registry.gauge({
    name: "db_pool_max_connections",
    help: "Most connections the database pool opens.",
    labelNames: ["database"],
    collect: (gauge) =>
      each((database, { max }) => gauge.set({ database }, max)),
  });
  return map;
}

function spanAttributes(info: QueryInfo): Record<string, string | number> {
  const attributes: Record<string, string | number> = {
    "db.system.name": info.system,
    "db.operation.name": info.operation,
    "db.query.text": info.text,
  };
  if (info.namespace !== undefined) attributes["db.namespace"] = info.namespace;
  if (info.serverAddress !== undefined) {
    attributes["server.address"] = info.serverAddress;
  }
  if (info.serverPort !== undefined) {
    attributes["server.port"] = info.serverPort;
  }
  return attributes;
}

function kindOf(error: unknown): string {
  const kind = (error as { kind?: unknown } | null)?.kind;
  return typeof kind === "string" ? kind : "error";
}
