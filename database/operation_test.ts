import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { operationOf } from "./operation.ts";

describe("operationOf", () => {
  it("names the first keyword past blanks, comments and parentheses", () => {
    assert.equal(operationOf("select 1"), "SELECT");
    assert.equal(
      operationOf("  \n-- note\n/* x */ (SELECT 1) union (select 2)"),
      "SELECT",
    );
    assert.equal(operationOf("insert into t values ($1)"), "INSERT");
    assert.equal(operationOf("WITH x AS (select 1) select * from x"), "WITH");
    assert.equal(operationOf("begin"), "BEGIN");
  });

  it("is OTHER for anything else, so labels stay few", () => {
    assert.equal(operationOf(""), "OTHER");
    assert.equal(operationOf("frobnicate 1"), "OTHER");
    assert.equal(operationOf("/* never closed select"), "OTHER");
    assert.equal(operationOf("$1"), "OTHER");
  });

  it("for any text: returns quickly, one of a fixed set", () => {
    const names = new Set<string>();
    fc.assert(
      fc.property(fc.string({ maxLength: 2_000 }), (text) => {
        const started = performance.now();
        names.add(operationOf(text));
        assert.ok(performance.now() - started < 50);
      }),
    );
    const long = "(".repeat(100_000) + "/*".repeat(50_000);
    const started = performance.now();
    assert.equal(operationOf(long), "OTHER");
    assert.ok(performance.now() - started < 200);
    for (const name of names) assert.match(name, /^[A-Z]+$/);
  });
});
