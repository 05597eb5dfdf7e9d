// Runs one statement for the database or a transaction: arguments checked,
// a deadline from the caller's signal and timeout, the hooks around it, and
// every failure mapped to a DatabaseError.
import { notFound } from "@cqi/errors";
import { Deadline } from "./deadline.ts";
import type { DriverResult, RunFn } from "./driver.ts";
import { toDatabaseError } from "./error.ts";
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

/** What a statement runs with. */
export interface StatementContext {
  run: RunFn;
  hooks: DatabaseHooks;
  target: Omit<QueryInfo, "operation" | "text">;
  /** Timeout when the call gives none. */
  timeout: number;
  /** Signals that also end the call (the database's shutdown, a transaction's deadline). */
  signals: (AbortSignal | undefined)[];
}

const MAX_TEXT = 2048;

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
    if (params[i] === undefined) {
      throw new TypeError(
        `${method}: parameter $${i + 1} is undefined (pass null for NULL)`,
      );
    }
  }
  const timeout = options.timeout;
  if (timeout !== undefined && !(timeout > 0)) {
    throw new RangeError(
      `${method}: timeout must be milliseconds > 0, got ${timeout}`,
    );
  }
  return [text, params, options];
}

/** Runs a parsed statement under its deadline and the hooks. */
export async function runStatement(
  context: StatementContext,
  text: string,
  params: readonly unknown[],
  options: QueryOptions,
): Promise<DriverResult> {
  const deadline = new Deadline(options.timeout ?? context.timeout, [
    options.signal,
    ...context.signals,
  ]);
  let result: DriverResult | undefined;
  const run = async (): Promise<number> => {
    const aborted = deadline.error("query");
    if (aborted !== undefined) throw aborted;
    try {
      result = await context.run(text, params, deadline.signal);
    } catch (error) {
      throw deadline.error("query") ?? toDatabaseError(error);
    }
    return result.rowCount;
  };
  try {
    const { onQuery } = context.hooks;
    if (onQuery === undefined) await run();
    else {
      await onQuery({
        operation: operationOf(text),
        text: text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text,
        ...context.target,
      }, run);
    }
  } finally {
    deadline.dispose();
  }
  if (result === undefined) {
    throw new TypeError("database: an onQuery hook must call run()");
  }
  return result;
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
