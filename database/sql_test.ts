import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isSql, sql } from "./sql.ts";

describe("sql", () => {
  it("numbers each value as a placeholder and keeps it out of the text", () => {
    const id = "x'; drop table t; --";
    const s = sql`select * from t where id = ${id} and n > ${3}`;
    assert.equal(s.text, "select * from t where id = $1 and n > $2");
    assert.deepEqual(s.params, [id, 3]);
    assert.ok(isSql(s));
    assert.ok(!isSql({ text: "select 1", params: [] }));
  });

  it("splices a fragment with its parameters renumbered, leaving its literals alone", () => {
    const where = sql`where a = ${1} and note <> '$1'`;
    const s = sql`select ${"x"}::text ${where} limit ${5}`;
    assert.equal(
      s.text,
      "select $1::text where a = $2 and note <> '$1' limit $3",
    );
    assert.deepEqual(s.params, ["x", 1, 5]);
  });

  it("refuses a digit right after a value, which would read as another placeholder", () => {
    assert.throws(() => sql`select ${1}0`, /\$1 read as another placeholder/);
    assert.equal(sql`select ${1} 0`.text, "select $1 0");
  });

  it("for any values and nesting: placeholders match parameters, values never reach the text", () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.boolean(),
    );
    const part = fc.string().filter((s) =>
      !s.includes("$") && !/^[0-9]/.test(s)
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(part, value, fc.boolean()), { maxLength: 8 }),
        part,
        (pieces, tail) => {
          // Build a template at run time: some values as fragments.
          const strings: string[] = [];
          const values: unknown[] = [];
          const expected: unknown[] = [];
          for (const [text, v, nest] of pieces) {
            strings.push(text);
            if (nest) {
              values.push(
                sql(Object.assign([" ", " "], { raw: [" ", " "] }), v),
              );
            } else values.push(v);
            expected.push(v);
          }
          strings.push(tail);
          const built = sql(
            Object.assign([...strings], { raw: [...strings] }),
            ...values,
          );
          assert.deepEqual(built.params, expected);
          const placeholders = [...built.text.matchAll(/\$(\d+)/g)].map((m) =>
            Number(m[1])
          );
          assert.deepEqual(placeholders, expected.map((_, i) => i + 1));
          for (const v of expected) {
            if (
              typeof v === "string" && v.length > 3 &&
              !strings.join("").includes(v)
            ) {
              assert.ok(!built.text.includes(v));
            }
          }
        },
      ),
    );
  });
});
