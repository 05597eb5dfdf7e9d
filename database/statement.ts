// Runs one statement for the database or a transaction: arguments checked,
// a deadline from the caller's signal and timeout, the hooks around it, and
// every failure mapped to a DatabaseError.
import { notFound } from "@cqi/errors";
import { canceled, timedOut } from "./deadline.ts";
import { type DriverResult, EXPIRED, type RunFn } from "./driver.ts";
import { type DatabaseError, toDatabaseError } from "./error.ts";
import { expireAfter } from "./expiry.ts";
import type { DatabaseHooks, QueryInfo } from "./hooks.ts";
import { operationOf } from "./operation.ts";
import { isSql, type Sql } from "./sql.ts";
import type { ExecResult, QueryOptions, Row } from "./types.ts";

/** Arguments of query/queryRow/exec, either form. */
export type StatementArgs = [
  text: string | Sql,
  params?: readonly unknown[] | QueryOptions,
  options?: QueryOptions,
];

/** Stops a running call, rejecting it with `error`. */
export type Stop = (error: DatabaseError) => void;

/** What a statement runs with. */
export interface StatementContext {
  run: RunFn;
  hooks: DatabaseHooks;
  target: Omit<QueryInfo, "operation" | "text">;
  /** Timeout when the call gives none. */
  timeout: number;
  /**
   * The calls running in this scope (the database, or one transaction), so
   * that shutdown or the end of a transaction can stop them.
   */
  active: Set<Stop>;
  /** What the hooks are told about each statement text, computed once. */
  infos: Map<string, QueryInfo>;
}

const MAX_TEXT = 2048;
// Statements whose hook description is kept (a service has a few hundred
// distinct statements; the cache starts over past this).
const MAX_INFOS = 1024;

/** Parses either call form into text, parameters and options. */
export function parseArgs(
  method: string,
  [first, second, third]: StatementArgs,
): [string, readonly unknown[], QueryOptions] {
  let text: string, params: readonly unknown[], options: QueryOptions;
  if (isSql(first)) {
    if (Array.isArray(second)) {
      throw new TypeError(
        `${method}: a statement from the sql tag carries its own parameters; pass options only`,
      );
    }
    ({ text, params } = first);
    options = (second as QueryOptions | undefined) ?? {};
  } else {
    if (typeof first !== "string" || first.trim() === "") {
      throw new TypeError(
        `${method}: the statement must be a non-empty string or a sql\`...\` statement`,
      );
    }
    text = first;
    if (second !== undefined && !Array.isArray(second)) {
      throw new TypeError(`${method}: params must be an array`);
    }
    params = second ?? [];
    options = third ?? {};
  }
  for (let i = 0; i < params.length; i++) {
    const type = typeof params[i];
    if (type === "undefined") {
      throw new TypeError(
        `${method}: parameter $${i + 1} is undefined (pass null for NULL)`,
      );
    }
    if (type === "symbol" || type === "function") {
      throw new TypeError(
        `${method}: parameter $${i + 1} is a ${type}, which no column stores`,
      );
    }
  }
  if (options.timeout !== undefined) {
    checkTimeout(options.timeout, `${method}: timeout`);
  }
  return [text, params, options];
}

// The longest delay a timer holds (a longer one fires at once).
const MAX_TIMER = 2 ** 31 - 1;

/**
 * Checks a timeout in milliseconds: above 0 and at most 2^31 - 1 (about 24
 * days), or Infinity for none.
 */
export function checkTimeout(ms: number, what: string): void {
  if (!(ms > 0) || (ms > MAX_TIMER && ms !== Infinity)) {
    throw new RangeError(
      `${what} must be milliseconds from 1 to ${MAX_TIMER}, or Infinity, got ${ms}`,
    );
  }
}

/** Runs a parsed statement under its timeout, its signal and the hooks. */
export function runStatement(
  context: StatementContext,
  text: string,
  params: readonly unknown[],
  options: QueryOptions,
): Promise<DriverResult> {
  const { onQuery } = context.hooks;
  if (onQuery === undefined) return execute(context, text, params, options);
  let info = context.infos.get(text);
  if (info === undefined) {
    if (context.infos.size >= MAX_INFOS) context.infos.clear();
    info = {
      operation: operationOf(text),
      text: text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text,
      ...context.target,
    };
    context.infos.set(text, info);
  }
  // The statement runs at most once, and only while the hook runs; the
  // caller gets the statement's own outcome whatever the hook returns.
  let started: Promise<DriverResult> | undefined;
  let returned = false;
  const run = (): Promise<number> => {
    if (started !== undefined) {
      return Promise.reject(
        new TypeError("database: an onQuery hook called run() twice"),
      );
    }
    if (returned) {
      return Promise.reject(
        new TypeError(
          "database: an onQuery hook called run() after it returned",
        ),
      );
    }
    started = execute(context, text, params, options);
    return started.then((result) => result.rowCount);
  };
  let hooked: Promise<number>;
  try {
    hooked = Promise.resolve(onQuery(info, run));
  } catch (error) {
    hooked = Promise.reject(error);
  }
  const outcome = () => {
    returned = true;
    if (started === undefined) {
      throw new TypeError("database: an onQuery hook must call run()");
    }
    return started;
  };
  return hooked.then(outcome, (error) => {
    if (started === undefined) throw error; // the hook failed; nothing ran
    return outcome();
  });
}

// One statement: rejected as `timeout` when its time is up, `canceled` when
// its signal aborts, or with what a scope's stop says — at that moment, while
// the statement is cancelled behind it (a silent server would otherwise keep
// the caller for as long as the cancel takes).
function execute(
  context: StatementContext,
  text: string,
  params: readonly unknown[],
  options: QueryOptions,
): Promise<DriverResult> {
  const signal = options.signal;
  if (signal?.aborted) {
    return Promise.reject(canceled("query", signal.reason));
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    let cancel: (() => void) | undefined;
    const finish = () => {
      settled = true;
      expiry.cancel();
      context.active.delete(stop);
      signal?.removeEventListener("abort", onAbort);
    };
    const stop: Stop = (error) => {
      if (settled) return;
      finish();
      cancel?.();
      reject(error);
    };
    const onAbort = () => stop(canceled("query", signal!.reason));
    const ms = options.timeout ?? context.timeout;
    const start = performance.now();
    const due = start + ms;
    const expiry = expireAfter(ms, () => stop(timedOut("query", ms)), start);
    context.active.add(stop);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      cancel = context.run(text, params, (result) => {
        if (settled) return;
        finish();
        resolve(result);
      }, (error) => {
        if (settled) return;
        finish();
        reject(
          error === EXPIRED
            ? timedOut("query", ms)
            : toDatabaseError(error, params),
        );
      }, due);
    } catch (error) {
      if (settled) return;
      finish();
      reject(toDatabaseError(error, params));
    }
  });
}

/** The rows. */
export function rowsOf<T extends Row>(result: DriverResult): T[] {
  return result.rows as T[];
}

/** The first row, or `not_found`. */
export function firstRow<T extends Row>(result: DriverResult): T {
  if (result.rows.length === 0) throw notFound("row");
  return result.rows[0] as T;
}

/** The row count of `exec`. */
export function execResult(result: DriverResult): ExecResult {
  return { rowCount: result.rowCount };
}
