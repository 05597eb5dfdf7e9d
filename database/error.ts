import { CqiError, type ErrorKind } from "@cqi/errors";

/**
 * Where a database failure came from, as far as it is known: the SQLSTATE
 * and the schema objects the server named. Never the statement's
 * parameters, and never the server's `detail` (which quotes them).
 *
 * @example Usage
 * ```ts
 * import type { DatabaseErrorDetails } from "@cqi/database";
 *
 * const details: DatabaseErrorDetails = { sqlState: "23505", constraint: "positions_pkey" };
 * ```
 */
export interface DatabaseErrorDetails {
  /** Five-character SQLSTATE from the server (`23505`), if it answered. */
  sqlState?: string;
  /** Constraint the statement violated. */
  constraint?: string;
  /** Table the error concerns. */
  table?: string;
  /** Column the error concerns. */
  column?: string;
}

/**
 * A failure of a database call, with a `@cqi/errors` kind chosen from what
 * went wrong.
 *
 * The module README has the table: an unreachable or restarting
 * server is `temporary`, a unique violation `conflict`, another constraint
 * or a bad value `invalid_input`, a serialization failure or deadlock that
 * outlived its retries `conflict`, a statement past its timeout `timeout`,
 * an aborted one `canceled`, everything else (syntax, unknown table)
 * `permanent`. Its message is safe to show a client; the cause says what
 * the server said, without parameter values.
 *
 * @example Usage
 * ```ts
 * import { createDatabase, DatabaseError } from "@cqi/database";
 *
 * await using db = createDatabase("pglite://");
 * await db.exec("create table accounts (id text primary key)");
 * await db.exec("insert into accounts values ($1)", ["acc-1"]);
 * try {
 *   await db.exec("insert into accounts values ($1)", ["acc-1"]);
 * } catch (error) {
 *   if (error instanceof DatabaseError) {
 *     console.log(error.kind, error.sqlState, error.constraint); // "conflict" "23505" "accounts_pkey"
 *   }
 * }
 * ```
 */
export class DatabaseError extends CqiError {
  /** Five-character SQLSTATE, when the server answered with one. */
  readonly sqlState?: string;
  /** Constraint the statement violated, if any. */
  readonly constraint?: string;
  /** Table the error concerns, if the server named one. */
  readonly table?: string;
  /** Column the error concerns, if the server named one. */
  readonly column?: string;

  /**
   * Makes the error; the database module does, at the edge.
   *
   * @param kind The error kind.
   * @param message A message safe for clients.
   * @param details SQLSTATE and schema objects.
   * @param cause What the server or the driver said, without parameters.
   */
  constructor(
    kind: ErrorKind,
    message: string,
    details: DatabaseErrorDetails = {},
    cause?: unknown,
  ) {
    super(kind, message, cause === undefined ? undefined : { cause });
    this.name = "DatabaseError";
    if (details.sqlState !== undefined) this.sqlState = details.sqlState;
    if (details.constraint !== undefined) this.constraint = details.constraint;
    if (details.table !== undefined) this.table = details.table;
    if (details.column !== undefined) this.column = details.column;
  }
}

// Connection-level failures of postgres.js, Node-style sockets and PGlite.
const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "CANCEL_UNANSWERED",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ConnectionRefused",
  "ConnectionReset",
]);

// Conditions the message names (the rest are named by class).
const CONDITIONS: Record<string, string> = {
  "23505": "unique_violation",
  "23503": "foreign_key_violation",
  "23502": "not_null_violation",
  "23514": "check_violation",
  "23P01": "exclusion_violation",
  "40001": "serialization_failure",
  "40P01": "deadlock_detected",
  "42601": "syntax_error",
  "42P01": "undefined_table",
  "42703": "undefined_column",
  "42883": "undefined_function",
  "57014": "query_canceled",
  "55P03": "lock_not_available",
  "57P01": "admin_shutdown",
  "57P02": "crash_shutdown",
  "57P03": "cannot_connect_now",
  "53300": "too_many_connections",
  "25P02": "in_failed_sql_transaction",
  "25006": "read_only_sql_transaction",
  "22P02": "invalid_text_representation",
  "22003": "numeric_value_out_of_range",
  "22001": "string_data_right_truncation",
};

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The kind and public message of a SQLSTATE. */
function classify(state: string): [ErrorKind, string] {
  if (state === "23505") return ["conflict", "already exists"];
  if (state === "40001" || state === "40P01") {
    return ["conflict", "conflicting concurrent change; try again"];
  }
  const cls = state.slice(0, 2);
  if (cls === "23") return ["invalid_input", "violates a constraint"];
  if (cls === "22") return ["invalid_input", "invalid value"];
  // 08 connection exception, 53 insufficient resources (too many
  // connections), 57P0x the server shutting down or starting up.
  if (state === "08P01") return ["permanent", "database error"];
  if (cls === "08" || cls === "53" || /^57P0[1-3]$/.test(state)) {
    return ["temporary", "database unavailable"];
  }
  // Cancelled on the server, not by this call's deadline or signal (those
  // are mapped before): a statement_timeout, or a cancel request meant for
  // another statement; a lock not available (NOWAIT, lock_timeout). Either
  // may succeed when tried again.
  if (state === "57014" || state === "55P03") {
    return ["temporary", "database busy; try again"];
  }
  return ["permanent", "database error"];
}

/**
 * Maps what the driver threw to a {@linkcode DatabaseError}. The cause is a
 * new Error naming the SQLSTATE and the server's message (dropped for class
 * 22, whose messages quote the bad value); the driver's own error, which
 * may carry the statement's parameters, is not kept.
 */
export function toDatabaseError(
  error: unknown,
  params: readonly unknown[] = [],
): DatabaseError {
  if (error instanceof DatabaseError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as
    & Record<string, unknown>
    & { message?: unknown };
  const code = typeof e.code === "string" ? e.code : undefined;
  const message = typeof e.message === "string" ? e.message : String(error);
  if (
    code !== undefined && SQLSTATE.test(code) && !CONNECTION_CODES.has(code)
  ) {
    const [kind, text] = classify(code);
    const details: DatabaseErrorDetails = {
      sqlState: code,
      constraint: text0(e.constraint_name ?? e.constraint),
      table: text0(e.table_name ?? e.table),
      column: text0(e.column_name ?? e.column),
    };
    const name = CONDITIONS[code] ?? `class ${code.slice(0, 2)}`;
    const said = code.startsWith("22")
      ? ""
      : `: ${firstLine(scrub(message, params))}`;
    return new DatabaseError(
      kind,
      text,
      details,
      new Error(`SQLSTATE ${code} ${name}${said}`),
    );
  }
  const errno = typeof e.errno === "string" ? e.errno : undefined;
  if (
    (code !== undefined && CONNECTION_CODES.has(code)) ||
    (errno !== undefined && CONNECTION_CODES.has(errno))
  ) {
    return new DatabaseError(
      "temporary",
      "database unavailable",
      {},
      new Error(`${code ?? errno}: ${firstLine(scrub(message, params))}`),
    );
  }
  return new DatabaseError(
    "permanent",
    "database error",
    {},
    new Error(firstLine(scrub(message, params))),
  );
}

// The server quotes parameter values in some messages (to_tsquery,
// current_setting, a ::regclass cast, lower-cased or not): every value of
// the statement, and every word of four characters or more in a text value,
// is cut out of the message, whatever its case; with values too large for
// that, the message is withheld.
function scrub(message: string, params: readonly unknown[]): string {
  const needles = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === "string") {
      if (value.length >= 3) needles.add(value);
      for (const word of value.split(/[\s"'(),;&|!:.]+/)) {
        if (word.length >= 4) needles.add(word);
      }
    } else if (typeof value === "number" || typeof value === "bigint") {
      const text = String(value);
      if (text.length >= 3) needles.add(text);
    }
  };
  for (const param of params) {
    if (Array.isArray(param)) param.forEach(add);
    else add(param);
  }
  if (needles.size === 0) return message;
  // Large values would make a large pattern: say nothing of the message.
  let size = 0;
  for (const needle of needles) size += needle.length;
  if (size > 16_384) return "(message withheld: it may quote a parameter)";
  const pattern = [...needles]
    .sort((a, b) => b.length - a.length)
    .map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("|");
  return message.replace(new RegExp(pattern, "gi"), "…");
}

/**
 * Whether a statement failed because its connection went away (so the
 * transaction on it is over), as opposed to an error the server raised in a
 * session that is still there (a lock timeout, say).
 */
export function connectionLost(error: DatabaseError): boolean {
  if (error.kind !== "temporary") return false;
  const state = error.sqlState;
  return state === undefined ||
    (state.startsWith("08") && state !== "08P01") || /^57P0[1-3]$/.test(state);
}

function text0(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function firstLine(message: string): string {
  const line = message.split("\n", 1)[0];
  return line.length > 512 ? `${line.slice(0, 512)}…` : line;
}
