import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseDotenv } from "./dotenv.ts";

const values = (text: string) =>
  Object.fromEntries(parseDotenv(text).entries.map((e) => [e.key, e.value]));

describe("parseDotenv", () => {
  it("reads KEY=value lines, skipping blanks and comments", () => {
    const { entries, problems } = parseDotenv(
      "# comment\n\nA=1\n  B = two words  \nexport C=3\n",
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(
      entries.map((e) => [e.key, e.value, e.line]),
      [["A", "1", 3], ["B", "two words", 4], ["C", "3", 5]],
    );
  });

  it("strips inline comments from unquoted values only", () => {
    assert.deepEqual(
      values("A=x # note\nB='y # kept'\nC=\"z # kept\" # note\nD=a#b"),
      {
        A: "x",
        B: "y # kept",
        C: "z # kept",
        D: "a#b",
      },
    );
  });

  it("keeps single quotes literal and expands escapes in double quotes", () => {
    assert.deepEqual(values(`A='a\\nb $x'\nB="a\\nb\\t\\"c\\" \\\\"`), {
      A: "a\\nb $x",
      B: 'a\nb\t"c" \\',
    });
  });

  it("reads quoted values across lines (PEM keys)", () => {
    const { entries } = parseDotenv(
      'KEY="-----BEGIN-----\nabc\n-----END-----"\nNEXT=1',
    );
    assert.equal(entries[0].value, "-----BEGIN-----\nabc\n-----END-----");
    assert.deepEqual([entries[1].key, entries[1].line], ["NEXT", 4]);
  });

  it("reports malformed lines by number, without their content", () => {
    const { entries, problems } = parseDotenv(
      "OK=1\nnot a pair secret-ish\nQ=\"open\nR='x' trailing\n1X=2\r\n",
    );
    assert.deepEqual(entries.map((e) => e.key), ["OK"]);
    assert.deepEqual(problems, [
      { line: 2, message: "expected KEY=value" },
      { line: 3, message: 'unterminated " quote' },
    ]);
    const more = parseDotenv("R='x' trailing\n1X=2\r\n").problems;
    assert.deepEqual(more, [
      { line: 1, message: "unexpected text after the closing quote" },
      { line: 2, message: "expected KEY=value" },
    ]);
    assert.ok(!JSON.stringify(problems).includes("secret-ish"));
  });

  it("accepts an empty value and a byte-order mark", () => {
    assert.deepEqual(values("\uFEFFA=\nB=''"), { A: "", B: "" });
  });
});

describe("parseDotenv on any text", () => {
  const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/);

  it("never throws, and its problems never hold the text", () => {
    const messages = new Set([
      "expected KEY=value",
      "unterminated ' quote",
      'unterminated " quote',
      "unexpected text after the closing quote",
    ]);
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        const { entries, problems } = parseDotenv(text);
        const lines = text.split("\n").length;
        for (const p of problems) {
          assert.ok(messages.has(p.message), p.message);
          assert.ok(p.line >= 1 && p.line <= lines);
        }
        for (const e of entries) {
          assert.match(e.key, /^[A-Za-z_][A-Za-z0-9_.]*$/);
          assert.ok(e.line >= 1 && e.line <= lines);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it("reads back any value written double-quoted with escapes", () => {
    fc.assert(
      fc.property(key, fc.string({ unit: "binary" }), (k, value) => {
        const escaped = value.replace(/[\\"]/g, "\\$&").replace(/\r/g, "\\r")
          .replace(/\n/g, "\\n");
        const { entries, problems } = parseDotenv(`${k}="${escaped}" # c\n`);
        assert.deepEqual(problems, []);
        assert.deepEqual(entries.map((e) => [e.key, e.value]), [[k, value]]);
      }),
      { numRuns: 2_000 },
    );
  });

  it("reads back any value without quotes, newlines or ' #' as written, trimmed", () => {
    const plain = fc.string({ unit: "grapheme" }).filter((s) =>
      !/[\r\n'"]/.test(s) && !/\s#/.test(s)
    );
    fc.assert(
      fc.property(key, plain, (k, value) => {
        const { entries } = parseDotenv(`export ${k} = ${value}`);
        assert.deepEqual(entries.map((e) => e.value), [value.trim()]);
      }),
      { numRuns: 2_000 },
    );
  });
});
