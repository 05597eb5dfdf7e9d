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

/** A statement on its way: its result, and a way to stop it. */
export interface Running {
  readonly result: Promise<DriverResult>;
  /**
   * Stops the statement: one still waiting for a connection is never sent,
   * one running is cancelled on the server where the backend can. The
   * result may still settle either way.
   */
  cancel(): void;
}

/** Starts one statement. */
export type RunFn = (text: string, params: readonly unknown[]) => Running;

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
