import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { jsonSyntaxError } from "./json_syntax.ts";

describe("jsonSyntaxError", () => {
  it("accepts valid JSON", () => {
    for (
      const text of [
        '{"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9"], "b": {}}',
        "[]",
        ' "s" ',
        "0",
      ]
    ) {
      assert.equal(jsonSyntaxError(text), undefined, text);
      assert.doesNotThrow(() => JSON.parse(text));
    }
  });

  it("finds the first error and its offset", () => {
    const cases: [string, string, number][] = [
      ['{"a": 1, "b": }', "expected a value", 14],
      ['{"a": 1 "b": 2}', "expected ',' or '}'", 8],
      ['{"a": 1,}', "trailing comma before '}'", 8],
      ["[1, 2,]", "trailing comma before ']'", 6],
      ['{"a": foo}', "expected a value", 6],
      ["{a: 1}", 'expected a "quoted" key', 1],
      ['{"a" 1}', "expected ':' after the key", 5],
      ['{"a": "x\ny"}', "control character in string (escape it)", 8],
      ['{"a": "\\q"}', "invalid escape in string", 7],
      ['{"a": "\\u12"}', "expected four hex digits after \\u", 7],
      ['{"a": "open', "unterminated string", 6],
      ['{"a": 1} x', "unexpected text after the JSON value", 9],
      ['{"a": ', "unexpected end of file", 6],
      ["", "unexpected end of file", 0],
    ];
    for (const [text, message, offset] of cases) {
      assert.deepEqual(jsonSyntaxError(text), { message, offset }, text);
      assert.throws(() => JSON.parse(text));
    }
  });
});

describe("jsonSyntaxError on any text", () => {
  it("accepts what JSON.parse accepts and rejects what it rejects", () => {
    // Valid JSON, JSON with one character changed or cut, and any text.
    const json = fc.json({ maxDepth: 8 });
    const edited = fc.tuple(json, fc.nat(), fc.string({ maxLength: 2 })).map(
      ([text, at, insert]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i + 1);
      },
    );
    fc.assert(
      fc.property(fc.oneof(json, edited, fc.string()), (text) => {
        let parses = true;
        try {
          JSON.parse(text);
        } catch {
          parses = false;
        }
        const error = jsonSyntaxError(text);
        assert.equal(error === undefined, parses, `${text} ${error?.message}`);
        if (error !== undefined) {
          assert.ok(error.offset >= 0 && error.offset <= text.length);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it("stops at 64 levels of nesting instead of recursing", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    assert.deepEqual(jsonSyntaxError(deep), {
      message: "nested too deeply",
      offset: 64,
    });
    const ok = "[".repeat(64) + "]".repeat(64);
    assert.equal(jsonSyntaxError(ok), undefined);
  });
});
