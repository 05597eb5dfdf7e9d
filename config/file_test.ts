import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseConfigText } from "./file.ts";
import type { Raw } from "./raw.ts";
import { plain } from "./testdata/plain.ts";

describe("parseConfigText", () => {
  it("keeps scalars as written, for the schema to type", () => {
    const { root, problems } = parseConfigText(
      "a: 1.10\nb: yes\nc:\nd: ~\ne: '5'\nf: 5s\ng: [x, 2]\nh: { i: true }\n",
      "c.yaml",
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(plain(root), {
      a: "1.10",
      b: "yes",
      c: null,
      d: null,
      e: "5",
      f: "5s",
      g: ["x", "2"],
      h: { i: "true" },
    });
  });

  it("records the line and column of each value", () => {
    const { root } = parseConfigText("db:\n  port: 5432\n", "c.yaml");
    const db = (root!.value as Map<string, Raw>).get("db")!;
    assert.deepEqual((db.value as Map<string, Raw>).get("port")!.source, {
      kind: "file",
      file: "c.yaml",
      line: 2,
      column: 9,
    });
  });

  it("resolves anchors and aliases", () => {
    const { root } = parseConfigText("a: &x { p: 1 }\nb: *x\n", "c.yaml");
    assert.deepEqual(plain(root), { a: { p: "1" }, b: { p: "1" } });
  });

  it("reads JSON files, numbers as written", () => {
    const { root, problems } = parseConfigText(
      '{\n  "a": { "b": 1.50, "c": [true, null] }\n}',
      "c.json",
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(plain(root), { a: { b: "1.50", c: ["true", null] } });
  });

  it("reports every YAML syntax error with its file, line and column", () => {
    const { root, problems } = parseConfigText(
      "ok: 1\nbad: [1, 2\nnext: 3\n",
      "conf/app.yaml",
    );
    assert.equal(root, undefined);
    assert.ok(problems.length >= 1);
    assert.match(problems[0].message, /^malformed YAML: /);
    assert.deepEqual(problems[0].source, {
      kind: "file",
      file: "conf/app.yaml",
      line: 3,
      column: 1,
    });
  });

  it("reports duplicate keys and tabs as YAML errors", () => {
    const dup = parseConfigText("a: 1\na: 2\n", "c.yaml").problems;
    assert.match(dup[0].message, /unique/);
    assert.equal(dup[0].source?.line, 2);
    const tab = parseConfigText("a:\n\tb: 1\n", "c.yaml").problems;
    assert.ok(tab.length > 0);
    assert.equal(tab[0].source?.line, 2);
  });

  it("reports a malformed JSON file with its line and column, not its text", () => {
    const { root, problems } = parseConfigText(
      '{\n  "password": "hunter2",\n  "port": ,\n}',
      "conf/app.json",
    );
    assert.equal(root, undefined);
    assert.deepEqual(problems, [{
      path: "",
      message: "malformed JSON: expected a value",
      source: { kind: "file", file: "conf/app.json", line: 3, column: 11 },
    }]);
  });

  it("needs a mapping at the top level; an empty file is empty", () => {
    const list = parseConfigText("- a\n- b\n", "c.yaml");
    assert.match(list.problems[0].message, /expected a mapping/);
    assert.equal(list.problems[0].source?.line, 1);
    assert.deepEqual(parseConfigText("", "c.yaml"), { problems: [] });
    assert.deepEqual(parseConfigText("# only a comment\n", "c.yaml"), {
      problems: [],
    });
  });

  it("rejects keys that are not plain scalars", () => {
    const { problems } = parseConfigText("? [a, b]\n: 1\nok: 2\n", "c.yaml");
    assert.equal(problems[0].message, "expected a plain key");
    assert.equal(problems[0].source?.line, 1);
  });

  it("reads a key without a value as empty, located at the key", () => {
    const { root, problems } = parseConfigText("? a\nb: 1\n", "c.yaml");
    assert.deepEqual(problems, []);
    assert.deepEqual(plain(root), { a: null, b: "1" });
    assert.equal((root!.value as Map<string, Raw>).get("a")!.source.line, 1);
  });

  it("reports an alias of no anchor", () => {
    const { problems } = parseConfigText("a: 1\nb: *nope\n", "c.yaml");
    assert.deepEqual(problems, [{
      path: "",
      message: "alias of no anchor",
      source: { kind: "file", file: "c.yaml", line: 2, column: 4 },
    }]);
  });

  it("stops at self-referencing anchors", () => {
    const { problems } = parseConfigText("a: &x [1, *x]\n", "c.yaml");
    assert.ok(problems.some((p) => /nested too deeply/.test(p.message)));
  });
});

describe("parseConfigText on any text", () => {
  it("never throws: a mapping or problems with their place", () => {
    const yamlish = fc.stringMatching(/^[a-z:\-\[\]{}&*!|>'" \n#,?]{0,60}$/);
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), yamlish),
        fc.boolean(),
        (text, json) => {
          const path = json ? "c.json" : "c.yaml";
          const { root, problems } = parseConfigText(text, path);
          if (root !== undefined) assert.ok(root.value instanceof Map);
          for (const p of problems) assert.equal(p.source?.file, path);
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it("reports deep nesting instead of overflowing the stack", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    assert.ok(parseConfigText(deep, "c.json").problems.length > 0);
    assert.ok(parseConfigText(`a: ${deep}`, "c.yaml").problems.length > 0);
  });
});
