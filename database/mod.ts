/**
 * PostgreSQL for services: a pool to a server through postgres.js, or
 * PGlite (PostgreSQL in WebAssembly) embedded in the process — the default,
 * so examples and tests need no server.
 *
 * - {@linkcode createDatabase} opens one from a `database` config section, a
 *   `postgres://` or `pglite://` URL, or nothing (PGlite in memory).
 * - `query`, `queryRow` and `exec` take positional parameters (`$1`) or a
 *   {@linkcode sql} template, a `signal` and a `timeout`; cancelling stops
 *   the statement on the server.
 * - `begin()` and `withTransaction()` (retries on serialization failures and
 *   deadlocks, savepoints when nested); `check()` for readiness; `close()`
 *   drains, then cancels.
 * - Failures are {@linkcode DatabaseError}s with `@cqi/errors` kinds;
 *   {@linkcode migrate} applies a folder of `.sql` files once each.
 * - {@linkcode DatabaseHooks} report statements and pool counts;
 *   `@cqi/service` wires them to logs, metrics and traces.
 *
 * @example Usage
 * ```ts
 * import { createDatabase, sql } from "@cqi/database";
 *
 * await using db = createDatabase(); // PGlite in memory
 * await db.exec("create table positions (id text primary key, qty numeric not null)");
 * await db.exec(sql`insert into positions values (${"p1"}, ${1.5})`);
 * const position = await db.queryRow<{ id: string; qty: string }>(
 *   sql`select id, qty from positions where id = ${"p1"}`,
 * );
 * console.log(position); // { id: "p1", qty: "1.5" }
 * ```
 *
 * @module
 */
export { createDatabase, type DatabaseOptions } from "./create.ts";
export { DatabaseError, type DatabaseErrorDetails } from "./error.ts";
export type { DatabaseHooks, QueryInfo } from "./hooks.ts";
export { migrate, type MigrateOptions, type Migration } from "./migrate.ts";
export { type Sql, sql } from "./sql.ts";
export type {
  Database,
  ExecResult,
  PoolStats,
  Queryable,
  QueryOptions,
  Row,
  Transaction,
  TransactionOptions,
  WithTransactionOptions,
} from "./types.ts";
