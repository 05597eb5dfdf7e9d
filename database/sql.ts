const SQL: unique symbol = Symbol("cqi.sql");
// The statements this tag made: only these are spliced as fragments (a
// look-alike object, or a Proxy that answers every key, is a parameter).
const made = new WeakSet<object>();

/**
 * A statement and its parameters, as built by the {@linkcode sql} tag:
 * `text` has a `$n` placeholder where each value was, and `params` holds the
 * values, which are sent apart from the text and never interpolated into it.
 *
 * @example Usage
 * ```ts
 * import { sql, type Sql } from "@cqi/database";
 *
 * const statement: Sql = sql`select * from positions where id = ${"p1"}`;
 * console.log(statement.text, statement.params); // "select * from positions where id = $1" [ "p1" ]
 * ```
 */
export interface Sql {
  /** The statement, with `$1`, `$2`, ... where the values were. */
  readonly text: string;
  /** The values, in placeholder order. */
  readonly params: readonly unknown[];
  /** @ignore The parts, for splicing into another statement. */
  readonly [SQL]: { texts: readonly string[]; params: readonly unknown[] };
}

/**
 * Builds a parameterised statement from a template: each `${value}` becomes
 * the next `$n` placeholder and its value a parameter, so a value can never
 * change the statement. A nested `sql` fragment is spliced in with its own
 * parameters renumbered. Identifiers (table and column names) cannot be
 * parameters: write them in the text.
 *
 * @example Usage
 * ```ts
 * import { createDatabase, sql } from "@cqi/database";
 *
 * await using db = createDatabase("pglite://");
 * await db.exec("create table users (name text)");
 * const hostile = "x'; drop table users; --";
 * await db.exec(sql`insert into users values (${hostile})`);
 * const where = sql`where name = ${hostile}`;
 * const rows = await db.query(sql`select name from users ${where} limit ${10}`);
 * console.log(rows[0].name === hostile); // true
 * ```
 *
 * @param strings The template's text.
 * @param values The interpolated values.
 * @returns The statement and its parameters.
 */
export function sql(
  strings: TemplateStringsArray,
  ...values: unknown[]
): Sql {
  // Nested fragments are spliced by their parts, not by rewriting their
  // text, so a "$1" inside a literal of a fragment stays as written.
  const texts = [strings[0]];
  const params: unknown[] = [];
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (isSql(value)) {
      const inner = value[SQL];
      texts[texts.length - 1] += inner.texts[0];
      for (let j = 0; j < inner.params.length; j++) {
        params.push(inner.params[j]);
        texts.push(inner.texts[j + 1]);
      }
      texts[texts.length - 1] += strings[i + 1];
    } else {
      params.push(value);
      texts.push(strings[i + 1]);
    }
  }
  let text = texts[0];
  for (let i = 1; i < texts.length; i++) {
    if (/^[0-9]/.test(texts[i])) {
      // "$1" then "0" would read as "$10": another parameter, silently.
      throw new TypeError(
        `sql: a digit right after a value would make $${i} read as another placeholder; put a space or a cast between them`,
      );
    }
    text += `$${i}${texts[i]}`;
  }
  const statement: Sql = { text, params, [SQL]: { texts, params } };
  made.add(statement);
  return statement;
}

/**
 * Whether `value` was built by {@linkcode sql}.
 *
 * @param value Anything.
 * @returns True for a statement from the tag.
 */
export function isSql(value: unknown): value is Sql {
  return typeof value === "object" && value !== null && made.has(value);
}
