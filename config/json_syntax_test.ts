import { describe, it } from "node:test";
import assert from "node:assert/strict";
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
