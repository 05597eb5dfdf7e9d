// An open transaction on a session (one connection): its statements, its
// end, savepoints, and what happens when the connection is lost or the
// deadline passes: the transaction is over, and no later statement of it can
// run anywhere else.
import type { Session } from "./driver.ts";
import { DatabaseError, toDatabaseError } from "./error.ts";
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
  session: Session;
  context: StatementContext;
  /** Aborted by the transaction's deadline, the caller's signal or shutdown. */
  signal: AbortSignal;
  /** Called once when the session is released. */
  onEnd: () => void;
}

// How long ROLLBACK or COMMIT may take once the transaction's own deadline
// has passed (a hung server must not hold the connection forever).
const END_TIMEOUT = 5_000;

/** A transaction (see `Transaction` in types.ts). */
export class Tx implements Transaction {
  readonly #parts: TransactionParts;
  #ended: DatabaseError | undefined;
  #failed = false;
  #savepoints = 0;
  #running = 0;
  #idle: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(parts: TransactionParts) {
    this.#parts = parts;
    if (parts.signal.aborted) this.#expire();
    else parts.signal.addEventListener("abort", () => this.#expire());
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
    if (this.#failed) {
      await this.rollback();
      throw new DatabaseError(
        "permanent",
        "database error",
        { sqlState: "25P02" },
        new Error("commit of a transaction a statement failed in: rolled back"),
      );
    }
    await this.#end("COMMIT");
  }

  async rollback(): Promise<void> {
    if (this.#ended !== undefined) return;
    await this.#end("ROLLBACK");
  }

  async withTransaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    this.#checkOpen("withTransaction");
    const name = `cqi_savepoint_${++this.#savepoints}`;
    await this.exec(`SAVEPOINT ${name}`);
    const failedBefore = this.#failed;
    let result: T;
    try {
      result = await fn(this);
    } catch (error) {
      if (this.#ended === undefined) {
        await this.exec(`ROLLBACK TO SAVEPOINT ${name}`);
        this.#failed = failedBefore;
        await this.exec(`RELEASE SAVEPOINT ${name}`);
      }
      throw error;
    }
    await this.exec(`RELEASE SAVEPOINT ${name}`);
    return result;
  }

  async #statement(method: string, args: StatementArgs) {
    const [text, params, options] = parseArgs(`tx.${method}`, args);
    this.#checkOpen(method);
    this.#running++;
    try {
      return await runStatement(this.#parts.context, text, params, options);
    } catch (error) {
      this.#failed = true;
      if (this.#ended === undefined && error instanceof DatabaseError) {
        if (error.kind === "temporary") {
          // The connection is gone, and with it the transaction: a later
          // statement must not run on a new connection outside it.
          this.#ended = error;
          this.#release(true);
        } else if (error.kind === "timeout" || error.kind === "canceled") {
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
    if (this.#ended === undefined) return;
    throw new DatabaseError(
      this.#ended.kind,
      this.#ended.message,
      {},
      new Error(`tx.${method} after the transaction ended`, {
        cause: this.#ended,
      }),
    );
  }

  // Ends the transaction with COMMIT or ROLLBACK; a failure to say it leaves
  // the connection in an unknown state, so it is destroyed, not reused.
  async #end(command: "COMMIT" | "ROLLBACK"): Promise<void> {
    this.#ended = new DatabaseError(
      "permanent",
      "database error",
      {},
      new Error(`transaction ended (${command})`),
    );
    await this.#whenIdle();
    try {
      await runStatement(
        { ...this.#parts.context, hooks: {} },
        command,
        [],
        { timeout: END_TIMEOUT },
      );
    } catch (error) {
      this.#release(true);
      if (command === "ROLLBACK") return; // the server rolls back on disconnect
      throw toDatabaseError(error);
    }
    this.#release(false);
  }

  // The deadline passed or the caller aborted: the running statement is
  // being cancelled; once it settles, roll back and give the connection back.
  #expire(): void {
    const reason = this.#parts.signal.reason;
    this.#abandon(
      reason instanceof DatabaseError
        ? reason
        : new DatabaseError("canceled", "transaction canceled", {}, reason),
    );
  }

  #abandon(error: DatabaseError): void {
    if (this.#ended !== undefined) return;
    this.#ended = error;
    for (const stop of this.#parts.context.active) stop(error);
    void this.#whenIdle().then(() =>
      runStatement({ ...this.#parts.context, hooks: {} }, "ROLLBACK", [], {
        timeout: END_TIMEOUT,
      }).then(() => this.#release(false), () => this.#release(true))
    );
  }

  #whenIdle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    this.#idle ??= Promise.withResolvers<void>();
    return this.#idle.promise;
  }

  #released = false;
  #release(broken: boolean): void {
    if (this.#released) return;
    this.#released = true;
    void this.#parts.session.release(broken).catch(() => {});
    this.#parts.onEnd();
  }
}
