// The database every backend shares: statements, transactions (with
// retries and savepoints), health, counts and a draining close.
import { retry } from "@cqi/retry";
import { closed, Deadline } from "./deadline.ts";
import type { Driver, DriverResult } from "./driver.ts";
import { DatabaseError, toDatabaseError } from "./error.ts";
import type { DatabaseHooks } from "./hooks.ts";
import {
  checkTimeout,
  execResult,
  firstRow,
  parseArgs,
  rowsOf,
  runStatement,
  type StatementArgs,
  type StatementContext,
} from "./statement.ts";
import { current, Tx } from "./transaction.ts";
import type {
  Database,
  ExecResult,
  PoolStats,
  Row,
  Transaction,
  TransactionOptions,
  WithTransactionOptions,
} from "./types.ts";

/** Settings of the core, resolved by createDatabase. */
export interface ClientSettings {
  queryTimeout: number;
  closeTimeout: number;
  hooks: DatabaseHooks;
}

const ISOLATION = new Set([
  "read committed",
  "repeatable read",
  "serializable",
]);
const RETRYABLE = new Set(["40001", "40P01"]);

/** A database on a driver (see `Database` in types.ts). */
export class Client implements Database {
  readonly #driver: Driver;
  readonly #settings: ClientSettings;
  readonly #context: StatementContext;
  readonly #closing = new AbortController();
  #active = 0;
  #drained: PromiseWithResolvers<void> | undefined;
  #closed: Promise<void> | undefined;

  constructor(driver: Driver, settings: ClientSettings) {
    this.#driver = driver;
    this.#settings = settings;
    this.#context = {
      run: driver.run,
      hooks: settings.hooks,
      target: driver.target,
      timeout: settings.queryTimeout,
      active: new Set(),
      infos: new Map(),
    };
    settings.hooks.onPool?.(() => driver.stats());
  }

  get backend(): "postgres" | "pglite" {
    return this.#driver.backend;
  }

  query<T extends Row = Row>(...args: StatementArgs): Promise<T[]> {
    return this.#statement("query", args, rowsOf<T>);
  }

  queryRow<T extends Row = Row>(...args: StatementArgs): Promise<T> {
    return this.#statement("queryRow", args, firstRow<T>);
  }

  exec(...args: StatementArgs): Promise<ExecResult> {
    return this.#statement("exec", args, execResult);
  }

  async begin(options: TransactionOptions = {}): Promise<Transaction> {
    const begin = beginStatement(options);
    this.#checkNotInside("begin");
    this.#enter("begin");
    const timeout = options.timeout ?? this.#settings.queryTimeout;
    const deadline = new Deadline("transaction", timeout, [
      options.signal,
      this.#closing.signal,
    ]);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      deadline.dispose();
      this.#leave();
    };
    let session;
    try {
      session = await this.#driver.session(deadline.signal);
    } catch (error) {
      end();
      throw deadline.error() ?? toDatabaseError(error);
    }
    // The transaction's own deadline ends it as a whole; its statements
    // carry their own timeouts too (the default, or the call's).
    const tx = new Tx({
      owner: this,
      session,
      context: {
        ...this.#context,
        run: session.run,
        active: new Set(),
      },
      signal: deadline.signal,
      onEnd: end,
    });
    try {
      await tx.exec(begin);
    } catch (error) {
      await tx.rollback();
      throw error;
    }
    return tx;
  }

  async withTransaction<T>(
    fn: (tx: Transaction) => Promise<T>,
    options: WithTransactionOptions = {},
  ): Promise<T> {
    if (typeof fn !== "function") {
      throw new TypeError("withTransaction: fn must be a function");
    }
    const outer = current.get()?.tx;
    if (outer?.owner === this && outer.open) return outer.withTransaction(fn);
    const retries = options.retries ?? 3;
    if (!Number.isInteger(retries) || retries < 0) {
      throw new RangeError(
        `withTransaction: retries must be an integer >= 0, got ${retries}`,
      );
    }
    return await retry(async () => {
      const tx = await this.begin(options) as Tx;
      let result: T;
      try {
        result = await tx.run(() => fn(tx));
      } catch (error) {
        await tx.rollback();
        throw error;
      }
      await tx.commit();
      return result;
    }, {
      maxAttempts: retries + 1,
      retryIf: serializationFailure,
      initialDelay: 5,
      maxDelay: 250,
    });
  }

  async check(signal?: AbortSignal): Promise<void> {
    try {
      await this.query("SELECT 1", [], { signal });
    } catch (error) {
      const { total, idle, max, waiting } = this.stats();
      if (
        error instanceof DatabaseError &&
        (error.kind === "canceled" || error.kind === "timeout") &&
        idle === 0 && total >= max
      ) {
        // It waited for a connection and none came free: say so, as an
        // outage of this dependency, not as the probe's own cancellation.
        throw new DatabaseError(
          "temporary",
          "database unavailable",
          {},
          new Error(
            `pool exhausted: ${total} of ${max} connections busy, ${waiting} calls waiting`,
            { cause: error },
          ),
        );
      }
      throw error;
    }
  }

  stats(): PoolStats {
    return this.#driver.stats();
  }

  close(options: { timeout?: number } = {}): Promise<void> {
    const timeout = options.timeout ?? this.#settings.closeTimeout;
    try {
      if (timeout !== 0) checkTimeout(timeout, "close: timeout");
    } catch (error) {
      return Promise.reject(error);
    }
    this.#closed ??= this.#close(timeout);
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(timeout: number): Promise<void> {
    if (this.#active > 0) {
      this.#drained = Promise.withResolvers();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((resolve) => {
        if (timeout !== Infinity) timer = setTimeout(resolve, timeout);
      });
      await Promise.race([this.#drained.promise, late]);
      clearTimeout(timer);
      if (this.#active > 0) {
        // Past the deadline: stop what still runs (transactions through
        // their deadlines, which roll them back) and wait for it to end.
        this.#closing.abort(closed());
        for (const stop of this.#context.active) stop(closed());
        await this.#drained.promise;
      }
    }
    this.#closing.abort(closed());
    await this.#driver.close();
  }

  // One promise layer over the statement's own (this is the hot path).
  #statement<R>(
    method: string,
    args: StatementArgs,
    map: (result: DriverResult) => R,
  ): Promise<R> {
    let text, params, options;
    try {
      [text, params, options] = parseArgs(method, args);
      this.#checkNotInside(method);
      this.#enter(method);
    } catch (error) {
      return Promise.reject(error); // a promise-returning call never throws
    }
    return runStatement(this.#context, text, params, options).then(
      (result) => {
        this.#leave();
        return map(result);
      },
      (error) => {
        this.#leave();
        throw error;
      },
    );
  }

  // PGlite is one connection: a call on the database from inside one of its
  // transactions would wait for that transaction, which waits for the call.
  #checkNotInside(method: string): void {
    if (this.#driver.backend !== "pglite") return;
    const tx = current.get()?.tx;
    if (tx?.owner !== this || !tx.open) return;
    throw new DatabaseError(
      "permanent",
      "database error",
      {},
      new Error(
        `db.${method} inside withTransaction on PGlite would wait for that transaction forever: use the tx it gave`,
      ),
    );
  }

  #enter(method: string): void {
    if (this.#closed !== undefined) {
      throw new DatabaseError(
        "temporary",
        "database closed",
        {},
        new Error(`${method} after close()`),
      );
    }
    this.#active++;
  }

  #leave(): void {
    if (--this.#active === 0) this.#drained?.resolve();
  }
}

function beginStatement(options: TransactionOptions): string {
  let text = "BEGIN";
  if (options.isolation !== undefined) {
    if (!ISOLATION.has(options.isolation)) {
      throw new TypeError(
        `begin: isolation must be one of ${[...ISOLATION].join(", ")}, got ${
          JSON.stringify(options.isolation)
        }`,
      );
    }
    text += ` ISOLATION LEVEL ${options.isolation.toUpperCase()}`;
  }
  if (options.readOnly === true) text += " READ ONLY";
  if (options.timeout !== undefined) {
    checkTimeout(options.timeout, "begin: timeout");
  }
  return text;
}

function serializationFailure(error: unknown): boolean {
  for (let e = error, depth = 0; depth < 16; depth++) {
    if (e instanceof DatabaseError) {
      return e.sqlState !== undefined && RETRYABLE.has(e.sqlState);
    }
    if (!(e instanceof Error)) return false;
    e = e.cause;
  }
  return false;
}
