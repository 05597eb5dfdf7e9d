import type { Sql } from "./sql.ts";

/** A result row: column name to value. */
export type Row = Record<string, unknown>;

/**
 * Per-call options of `query`, `queryRow` and `exec`.
 *
 * @example Usage
 * ```ts
 * import type { QueryOptions } from "@cqi/database";
 *
 * const options: QueryOptions = { timeout: 2_000, signal: AbortSignal.timeout(5_000) };
 * ```
 */
export interface QueryOptions {
  /** Aborting it cancels the statement on the server; the call rejects `canceled`. */
  signal?: AbortSignal;
  /**
   * Milliseconds the statement may run (queueing for a connection included);
   * past it the statement is cancelled on the server and the call rejects
   * `timeout`. Default: the database's `queryTimeout` (30 s).
   */
  timeout?: number;
}

/**
 * What `exec` returns.
 *
 * @example Usage
 * ```ts
 * import type { ExecResult } from "@cqi/database";
 *
 * const result: ExecResult = { rowCount: 1 };
 * ```
 */
export interface ExecResult {
  /** Rows inserted, updated, deleted or returned by the statement. */
  rowCount: number;
}

/**
 * The statements every connection-like value runs: the database (each call
 * on a pooled connection) and a transaction (each call inside it).
 * Parameters are positional (`$1`, `$2`, ...) and sent apart from the text,
 * never interpolated into it; the {@linkcode sql} tag builds both from a
 * template.
 *
 * @example Usage
 * ```ts
 * import { createDatabase, type Queryable, sql } from "@cqi/database";
 *
 * async function balance(db: Queryable, account: string): Promise<number> {
 *   const row = await db.queryRow<{ balance: number }>(
 *     sql`select ${100}::int as balance, ${account}::text as account`,
 *   );
 *   return row.balance;
 * }
 * await using db = createDatabase("pglite://");
 * console.log(await balance(db, "acc-1")); // 100
 * ```
 */
export interface Queryable {
  /**
   * Runs a statement and returns its rows.
   *
   * @param text SQL with `$1`-style placeholders.
   * @param params The placeholder values, in order.
   * @param options A signal and a timeout.
   * @returns The rows.
   */
  query<T extends Row = Row>(
    text: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<T[]>;
  /**
   * Runs a statement built by the {@linkcode sql} tag and returns its rows.
   *
   * @param statement The statement and its parameters.
   * @param options A signal and a timeout.
   * @returns The rows.
   */
  query<T extends Row = Row>(
    statement: Sql,
    options?: QueryOptions,
  ): Promise<T[]>;
  /**
   * Runs a statement and returns its first row; rejects `not_found` when
   * there is none.
   *
   * @param text SQL with `$1`-style placeholders.
   * @param params The placeholder values, in order.
   * @param options A signal and a timeout.
   * @returns The first row.
   */
  queryRow<T extends Row = Row>(
    text: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<T>;
  /**
   * Runs a statement built by the {@linkcode sql} tag and returns its first
   * row; rejects `not_found` when there is none.
   *
   * @param statement The statement and its parameters.
   * @param options A signal and a timeout.
   * @returns The first row.
   */
  queryRow<T extends Row = Row>(
    statement: Sql,
    options?: QueryOptions,
  ): Promise<T>;
  /**
   * Runs a statement for its effect and returns how many rows it touched.
   *
   * @param text SQL with `$1`-style placeholders.
   * @param params The placeholder values, in order.
   * @param options A signal and a timeout.
   * @returns The row count.
   */
  exec(
    text: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<ExecResult>;
  /**
   * Runs a statement built by the {@linkcode sql} tag for its effect.
   *
   * @param statement The statement and its parameters.
   * @param options A signal and a timeout.
   * @returns The row count.
   */
  exec(statement: Sql, options?: QueryOptions): Promise<ExecResult>;
}

/**
 * How a transaction runs.
 *
 * @example Usage
 * ```ts
 * import type { TransactionOptions } from "@cqi/database";
 *
 * const options: TransactionOptions = { isolation: "serializable", timeout: 5_000 };
 * ```
 */
export interface TransactionOptions {
  /** Isolation level. Default: the server's (`read committed`). */
  isolation?: "read committed" | "repeatable read" | "serializable";
  /** `READ ONLY`: writes fail with `permanent`. Default false. */
  readOnly?: boolean;
  /** Aborting it cancels the running statement and rolls back. */
  signal?: AbortSignal;
  /**
   * Milliseconds for the whole transaction, from waiting for a connection
   * to `COMMIT`; past it the running statement is cancelled and the
   * transaction rolled back. Default: the database's `queryTimeout`.
   */
  timeout?: number;
}

/**
 * Options of `withTransaction`: those of `begin`, plus retries.
 *
 * @example Usage
 * ```ts
 * import type { WithTransactionOptions } from "@cqi/database";
 *
 * const options: WithTransactionOptions = { isolation: "serializable", retries: 5 };
 * ```
 */
export interface WithTransactionOptions extends TransactionOptions {
  /**
   * Times a transaction that failed on a serialization failure or a
   * deadlock (SQLSTATE 40001, 40P01) is run again, with backoff. Default 3;
   * 0 runs it once. Ignored for a nested (savepoint) transaction.
   */
  retries?: number;
}

/**
 * An open transaction: the statements of {@linkcode Queryable}, run inside
 * it, and its end. After `commit` or `rollback` (or a lost connection)
 * every call rejects.
 *
 * @example Usage
 * ```ts
 * import { createDatabase } from "@cqi/database";
 *
 * await using db = createDatabase("pglite://");
 * await db.exec("create table ledger (id int primary key, amount int)");
 * const tx = await db.begin();
 * try {
 *   await tx.exec("insert into ledger values ($1, $2)", [1, 100]);
 *   await tx.commit();
 * } catch (error) {
 *   await tx.rollback();
 *   throw error;
 * }
 * console.log((await db.query("select * from ledger")).length); // 1
 * ```
 */
export interface Transaction extends Queryable {
  /** Makes the transaction's changes permanent and releases its connection. */
  commit(): Promise<void>;
  /**
   * Discards the transaction's changes and releases its connection,
   * cancelling statements still running. Once the transaction has ended,
   * or while `commit()` is on its way, it waits for that and does nothing
   * (so a `finally` may call it after every commit).
   */
  rollback(): Promise<void>;
  /**
   * Runs `fn` inside a savepoint: released when `fn` returns, rolled back
   * to (undoing only `fn`'s statements) when it throws, and the error
   * rethrown.
   *
   * @param fn The work, given this transaction.
   * @returns What `fn` returns.
   */
  withTransaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
}

/**
 * Connection counts of a database (a PGlite instance is one connection).
 *
 * @example Usage
 * ```ts
 * import { createDatabase } from "@cqi/database";
 *
 * await using db = createDatabase("pglite://");
 * console.log(db.stats()); // { total: 1, idle: 1, waiting: 0, max: 1 }
 * ```
 */
export interface PoolStats {
  /** Connections open. */
  total: number;
  /** Open connections running nothing. */
  idle: number;
  /** Calls waiting for a connection. */
  waiting: number;
  /** Most connections the pool opens (`maxConnections`; 1 for PGlite). */
  max: number;
}

/**
 * A PostgreSQL database: a pool of connections to a server, or an embedded
 * PGlite instance. Every call maps failures to `@cqi/errors` kinds (see
 * {@linkcode DatabaseError}).
 *
 * @example Usage
 * ```ts
 * import { createDatabase } from "@cqi/database";
 *
 * await using db = createDatabase("pglite://");
 * const total = await db.withTransaction(async (tx) => {
 *   await tx.exec("create table fills (qty int)");
 *   await tx.exec("insert into fills values ($1), ($2)", [2, 3]);
 *   return (await tx.queryRow<{ sum: number }>("select sum(qty)::int as sum from fills")).sum;
 * });
 * console.log(total); // 5
 * ```
 */
export interface Database extends Queryable, AsyncDisposable {
  /** `postgres` (a server through postgres.js) or `pglite` (embedded). */
  readonly backend: "postgres" | "pglite";
  /**
   * Opens a transaction on a connection of its own, held until `commit` or
   * `rollback`. On PGlite it holds the one connection: every other call waits.
   *
   * @param options Isolation, read-only, signal and timeout.
   * @returns The transaction.
   */
  begin(options?: TransactionOptions): Promise<Transaction>;
  /**
   * Runs `fn` in a transaction: commits when it returns, rolls back and
   * rethrows when it throws, and runs it again on a serialization failure
   * or deadlock (up to `retries` times). Called inside another
   * `withTransaction` of this database, it runs in a savepoint of that
   * transaction instead.
   *
   * @param fn The work, given the transaction.
   * @param options Isolation, read-only, signal, timeout and retries.
   * @returns What `fn` returns.
   */
  withTransaction<T>(
    fn: (tx: Transaction) => Promise<T>,
    options?: WithTransactionOptions,
  ): Promise<T>;
  /**
   * Health check: `SELECT 1` within `signal`; rejects `temporary` when the
   * server cannot be reached or no connection frees up.
   *
   * @param signal Bounds the check (the health registry's timeout).
   */
  check(signal?: AbortSignal): Promise<void>;
  /**
   * The connection counts now.
   *
   * @returns Total, idle and waiting.
   */
  stats(): PoolStats;
  /**
   * Stops new calls, waits for running ones up to `timeout` milliseconds
   * (default: the database's `closeTimeout`, 5 s), then cancels the rest and
   * closes every connection. Idempotent.
   *
   * @param options The deadline.
   */
  close(options?: { timeout?: number }): Promise<void>;
}
