// What a backend gives the database core (client.ts): statements on any
// connection, a session that holds one connection, counts, and shutdown.
// Internal: backends implement it, nothing outside this module sees it.
import type { QueryInfo } from "./hooks.ts";
import type { PoolStats, Row } from "./types.ts";

/** Rows and row count of one statement. */
export interface DriverResult {
  rows: Row[];
  rowCount: number;
  /** The command tag's verb (`SELECT`, `COMMIT`, `ROLLBACK`, ...), when known. */
  command?: string;
}

/**
 * Starts one statement; calls `ok` with its result or `fail` with what the
 * client threw (once, unless cancelled first), and returns its cancel: a
 * statement still waiting for a connection is never sent, one running is
 * cancelled on the server where the backend can. (Callbacks, not a
 * promise: a statement is the hot path, and every promise layer costs.)
 */
export type RunFn = (
  text: string,
  params: readonly unknown[],
  ok: (result: DriverResult) => void,
  fail: (error: unknown) => void,
  due: number,
) => () => void;

/**
 * What a backend fails a statement with when it was about to run it past
 * `due` (a `performance.now()` time): a backend whose statements hold the
 * event loop (PGlite) cannot count on the timers to stop a call that waited.
 */
export const EXPIRED: unique symbol = Symbol("expired before it ran");

/** One connection held by a transaction until released. */
export interface Session {
  run: RunFn;
  /** Gives the connection back; `broken` destroys it instead. */
  release(broken: boolean): Promise<void>;
}

/** A backend. */
export interface Driver {
  readonly backend: "postgres" | "pglite";
  /** What spans and hooks say about where statements go. */
  readonly target: Omit<QueryInfo, "operation" | "text">;
  run: RunFn;
  /** A session of its own; waiting for it ends when `signal` aborts. */
  session(signal: AbortSignal): Promise<Session>;
  stats(): PoolStats;
  /** Closes every connection now (the core has drained or cancelled calls). */
  close(): Promise<void>;
}
