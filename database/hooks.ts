import type { PoolStats } from "./types.ts";

/**
 * A statement about to run, as the {@linkcode DatabaseHooks} see it: never
 * its parameters.
 *
 * @example Usage
 * ```ts
 * import type { QueryInfo } from "@cqi/database";
 *
 * const info: QueryInfo = { operation: "SELECT", text: "select 1", system: "postgresql" };
 * ```
 */
export interface QueryInfo {
  /** First keyword of the statement (`SELECT`, `INSERT`, ...) or `OTHER`. */
  operation: string;
  /** The statement text with its `$n` placeholders (at most 2,048 characters). */
  text: string;
  /** Always `postgresql` (OpenTelemetry's `db.system.name`). */
  system: "postgresql";
  /** Database name, when known (OpenTelemetry's `db.namespace`). */
  namespace?: string;
  /** Server host, when the database is a server. */
  serverAddress?: string;
  /** Server port, when the database is a server. */
  serverPort?: number;
}

/**
 * Observation points of a database, so that it reports to logs, metrics and
 * traces without importing them: `@cqi/service`'s `databaseHooks()` (and
 * `bootstrap().databaseHooks()`) builds these for its logger, registry and
 * tracer; spread them into the {@linkcode createDatabase} options.
 *
 * @example Count statements by operation
 * ```ts
 * import { createDatabase, type DatabaseHooks } from "@cqi/database";
 *
 * const counts = new Map<string, number>();
 * const hooks: DatabaseHooks = {
 *   onQuery: (info, run) => {
 *     counts.set(info.operation, (counts.get(info.operation) ?? 0) + 1);
 *     return run();
 *   },
 * };
 * await using db = createDatabase("pglite://", hooks);
 * await db.query("select 1");
 * console.log(counts.get("SELECT")); // 1
 * ```
 */
export interface DatabaseHooks {
  /**
   * Wraps every statement: call `run()` exactly once and return (or await)
   * what it returns, the row count; it rejects with the
   * {@linkcode DatabaseError}. Time spent waiting for a connection is
   * included. `info` is shared by every run of one statement text: read it,
   * never change it. The statement runs at most once and only before the
   * hook returns (a second or late `run()` rejects without running it); the
   * caller always gets the statement's own result or error, and a hook that
   * never calls `run()` fails the call with a `TypeError`.
   */
  onQuery?: (
    info: Readonly<QueryInfo>,
    run: () => Promise<number>,
  ) => Promise<number>;
  /**
   * Called once when the database is created, with a reader of its
   * connection counts (for pool gauges read at scrape time).
   */
  onPool?: (stats: () => PoolStats) => void;
}
