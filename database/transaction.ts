// An open transaction on a session (one connection): its statements, its
// end, savepoints, and what happens when the connection is lost or the
// deadline passes: the transaction is over, and no later statement of it can
// run anywhere else.
import { ContextKey } from "@cqi/http";
import type { Session } from "./driver.ts";
import { connectionLost, DatabaseError, toDatabaseError } from "./error.ts";
import { Lock } from "./lock.ts";
import {
  execResult,
  firstRow,
  parseArgs,
  runStatement,
  type StatementArgs,
  type StatementContext,
} from "./statement.ts";
import type { ExecResult, Row, Transaction } from "./types.ts";

/** Where a transaction came from: its session and its statement context. */
export interface TransactionParts {
  /** The database it belongs to (nested calls on it become savepoints). */
  owner: unknown;
  session: Session;
  context: StatementContext;
  /**
   * Aborted by the transaction's deadline, the caller's signal or shutdown,
   * with the DatabaseError that ends it.
   */
  signal: AbortSignal;
  /** Called once when the session is released. */
  onEnd: () => void;
}

/**
 * A level of savepoints: the transaction itself, or the body of one
 * savepoint. Savepoints opened at one level run one after the other (two
 * at once would interleave on the one connection, and rolling back to the
 * first would undo the second).
 */
interface Level {
  readonly lock: Lock;
}

/** The transaction whose `withTransaction` body is running, and its level. */
export const current: ContextKey<{ tx: Tx; level: Level }> = new ContextKey(
  "cqi.database.transaction",
);

// How long COMMIT or ROLLBACK may take (a hung server must not hold the
// connection forever).
const END_TIMEOUT = 5_000;

/** A transaction (see `Transaction` in types.ts). */
export class Tx implements Transaction {
  readonly #parts: TransactionParts;
  readonly #root: Level = { lock: new Lock() };
  /** Set once the transaction is over: why later calls fail. */
  #ended: DatabaseError | undefined;
  /** Set by commit or rollback: refuses new statements, ends once idle. */
  #ending: Promise<void> | undefined;
  #failed = false;
  #savepoints = 0;
  #openSavepoints = 0;
  #running = 0;
  #idle: { promise: Promise<void>; resolve: () => void } | undefined;
  #released = false;

  constructor(parts: TransactionParts) {
    this.#parts = parts;
    if (parts.signal.aborted) this.#expire();
    else parts.signal.addEventListener("abort", () => this.#expire());
  }

  /** Whether statements may still run in it. */
  get open(): boolean {
    return this.#ended === undefined && this.#ending === undefined;
  }

  /** The database it belongs to. */
  get owner(): unknown {
    return this.#parts.owner;
  }

  /** Runs `fn` with this transaction as the current one, at its top level. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return current.with({ tx: this, level: this.#root }, fn);
  }

  query<T extends Row = Row>(...args: StatementArgs): Promise<T[]> {
    return this.#statement("query", args).then((r) => r.rows as T[]);
  }

  queryRow<T extends Row = Row>(...args: StatementArgs): Promise<T> {
    return this.#statement("queryRow", args).then((r) => firstRow<T>(r));
  }

  exec(...args: StatementArgs): Promise<ExecResult> {
    return this.#statement("exec", args).then(execResult);
  }

  async commit(): Promise<void> {
    this.#checkOpen("commit");
    this.#ending = this.#commit(); // set at once: no statement starts after
    return await this.#ending;
  }

  rollback(): Promise<void> {
    // After commit() (or while it is on its way) this waits for it and does
    // nothing: a committed transaction stays committed (the cleanup of a
    // `finally` may call rollback() after every commit).
    if (this.#ending !== undefined) return this.#ending.catch(() => {});
    if (this.#ended !== undefined) return Promise.resolve();
    // Statements still running are stopped, not waited for.
    const stopped = new DatabaseError(
      "canceled",
      "transaction rolled back",
    );
    for (const stop of this.#parts.context.active) stop(stopped);
    this.#ending = this.#whenIdle().then(() => this.#end("ROLLBACK"));
    return this.#ending;
  }

  async withTransaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const here = current.get();
    const level = here?.tx === this ? here.level : this.#root;
    this.#checkOpen("withTransaction");
    const release = await level.lock.acquire().promise;
    try {
      return await this.#savepoint(fn);
    } finally {
      release();
    }
  }

  async #savepoint<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const name = `cqi_savepoint_${++this.#savepoints}`;
    await this.exec(`SAVEPOINT ${name}`);
    const failedBefore = this.#failed;
    this.#openSavepoints++;
    try {
      let result: T;
      try {
        const inner: Level = { lock: new Lock() };
        result = await current.with({ tx: this, level: inner }, () => fn(this));
      } catch (error) {
        await this.#undo(name, failedBefore);
        throw error;
      }
      if (this.#failed && !failedBefore) {
        // A statement in it failed and the body went on: the savepoint's
        // work cannot be kept (the server refuses RELEASE), but the
        // transaction around it can.
        await this.#undo(name, failedBefore);
        throw new DatabaseError(
          "permanent",
          "database error",
          { sqlState: "25P02" },
          new Error(
            "a statement in the savepoint failed and its body went on: rolled back to the savepoint",
          ),
        );
      }
      try {
        await this.exec(`RELEASE SAVEPOINT ${name}`);
      } catch (error) {
        await this.#undo(name, failedBefore);
        throw error;
      }
      return result;
    } finally {
      this.#openSavepoints--;
    }
  }

  // Rolls back to a savepoint and releases it; when that fails the
  // transaction itself is over (its connection, its deadline), and the
  // error the caller sees is the body's own.
  async #undo(name: string, failedBefore: boolean): Promise<void> {
    if (!this.open) return;
    try {
      await this.exec(`ROLLBACK TO SAVEPOINT ${name}`);
      this.#failed = failedBefore;
      await this.exec(`RELEASE SAVEPOINT ${name}`);
    } catch {
      // see above
    }
  }

  // COMMIT once every statement still running has ended: one that failed
  // meanwhile (a caller that did not await it) makes it a rollback.
  async #commit(): Promise<void> {
    await this.#whenIdle();
    if (this.#ended !== undefined) throw this.#after("commit");
    if (this.#openSavepoints > 0) {
      // A savepoint body still runs (a caller did not await it): half of
      // it must not be committed.
      await this.#end("ROLLBACK");
      throw new DatabaseError(
        "permanent",
        "database error",
        {},
        new Error("commit while a savepoint was still running: rolled back"),
      );
    }
    if (this.#failed) {
      await this.#end("ROLLBACK");
      throw new DatabaseError(
        "permanent",
        "database error",
        { sqlState: "25P02" },
        new Error("commit of a transaction a statement failed in: rolled back"),
      );
    }
    await this.#end("COMMIT");
  }

  async #statement(method: string, args: StatementArgs) {
    const [text, params, options] = parseArgs(`tx.${method}`, args);
    this.#checkOpen(method);
    this.#running++;
    try {
      return await runStatement(this.#parts.context, text, params, options);
    } catch (error) {
      this.#failed = true;
      if (
        this.#ended === undefined && this.#ending === undefined &&
        error instanceof DatabaseError
      ) {
        if (connectionLost(error)) {
          // The connection is gone, and with it the transaction: a later
          // statement must not run on a new connection outside it.
          this.#ended = error;
          this.#release(true);
        } else if (error.kind === "timeout" || error.kind === "canceled") {
          // Its own timeout or signal: the cancel request may still be on
          // its way, so nothing more is sent in this transaction.
          this.#abandon(error);
        }
      }
      throw error;
    } finally {
      if (--this.#running === 0 && this.#idle !== undefined) {
        this.#idle.resolve();
        this.#idle = undefined;
      }
    }
  }

  #checkOpen(method: string): void {
    if (this.#ended !== undefined) throw this.#after(method);
    if (this.#ending !== undefined) {
      throw new DatabaseError(
        "permanent",
        "database error",
        {},
        new Error(`tx.${method} after commit() or rollback()`),
      );
    }
  }

  #after(method: string): DatabaseError {
    const ended = this.#ended!;
    return new DatabaseError(
      ended.kind,
      ended.message,
      {},
      new Error(`tx.${method} after the transaction ended`, { cause: ended }),
    );
  }

  // Says COMMIT or ROLLBACK (seen by the hooks, like any statement). A
  // failure to say it leaves the connection in an unknown state, so it is
  // destroyed, not reused; a COMMIT the server answered with ROLLBACK (the
  // transaction had failed) is an error.
  async #end(command: "COMMIT" | "ROLLBACK"): Promise<void> {
    this.#ended = new DatabaseError(
      "permanent",
      "database error",
      {},
      new Error(`transaction ended (${command})`),
    );
    let answer;
    try {
      answer = await runStatement(this.#parts.context, command, [], {
        timeout: END_TIMEOUT,
      });
    } catch (error) {
      this.#release(true);
      if (command === "ROLLBACK") return; // the server rolls back on disconnect
      throw toDatabaseError(error);
    }
    this.#release(false);
    if (command === "COMMIT" && answer.command === "ROLLBACK") {
      throw new DatabaseError(
        "permanent",
        "database error",
        { sqlState: "25P02" },
        new Error(
          "the server rolled the transaction back instead of committing it",
        ),
      );
    }
  }

  // The deadline passed or the caller aborted: the running statement is
  // being cancelled; once it settles, roll back and give the connection back.
  #expire(): void {
    this.#abandon(this.#parts.signal.reason as DatabaseError);
  }

  #abandon(error: DatabaseError): void {
    if (this.#ended !== undefined) return;
    this.#ended = error;
    for (const stop of this.#parts.context.active) stop(error);
    void this.#whenIdle().then(() =>
      runStatement(this.#parts.context, "ROLLBACK", [], {
        timeout: END_TIMEOUT,
      }).then(() => this.#release(false), () => this.#release(true))
    );
  }

  #whenIdle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    this.#idle ??= Promise.withResolvers<void>();
    return this.#idle.promise;
  }

  #release(broken: boolean): void {
    if (this.#released) return;
    this.#released = true;
    void this.#parts.session.release(broken).catch(() => {});
    this.#parts.onEnd();
  }
}
