// The operation of a statement, for metrics labels and span names: its first
// keyword, upper-cased, when it is one of these; "OTHER" otherwise, so a
// label never takes more values than this list has.
const OPERATIONS = new Set([
  "SELECT",
  "INSERT",
  "UPDATE",
  "DELETE",
  "MERGE",
  "WITH",
  "VALUES",
  "TABLE",
  "BEGIN",
  "COMMIT",
  "ROLLBACK",
  "SAVEPOINT",
  "RELEASE",
  "CREATE",
  "ALTER",
  "DROP",
  "TRUNCATE",
  "COPY",
  "CALL",
  "DO",
  "SET",
  "SHOW",
  "EXPLAIN",
  "LOCK",
  "GRANT",
  "REVOKE",
  "VACUUM",
  "ANALYZE",
  "LISTEN",
  "NOTIFY",
  "REFRESH",
  "COMMENT",
]);

const LEADING = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*/;
const WORD = /^[A-Za-z]+/;

/**
 * The operation name of a statement: `SELECT`, `INSERT`, ... (skipping
 * leading blanks, comments and parentheses), or `OTHER`.
 */
export function operationOf(text: string): string {
  const rest = text.slice(LEADING.exec(text)?.[0].length ?? 0, 64);
  const word = WORD.exec(rest)?.[0].toUpperCase();
  return word !== undefined && OPERATIONS.has(word) ? word : "OTHER";
}
