import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseTemplate, render, type Template, varsOf } from "./interpolate.ts";

const env: Record<string, string> = { HOST: "db", EMPTY: "" };
const lookup = (name: string) => env[name];
const fill = (text: string) => {
  const template = parseTemplate(text);
  assert.ok(Array.isArray(template), JSON.stringify(template));
  return render(template as Template, lookup);
};

describe("interpolation", () => {
  it("replaces ${VAR} with the variable", () => {
    assert.deepEqual(fill("${HOST}"), { value: "db", missing: [] });
    assert.deepEqual(fill("postgres://${HOST}:5432/x"), {
      value: "postgres://db:5432/x",
      missing: [],
    });
  });

  it("uses the default when the variable is unset or empty", () => {
    assert.equal(fill("${NOPE:localhost}").value, "localhost");
    assert.equal(fill("${EMPTY:fallback}").value, "fallback");
    assert.equal(fill("${HOST:ignored}").value, "db");
    assert.equal(fill("${NOPE:localhost:9092}").value, "localhost:9092");
    assert.equal(fill("${NOPE:}").value, "");
  });

  it("reports a variable that is unset and has no default", () => {
    assert.deepEqual(fill("${NOPE}-${ALSO_NOPE}-${HOST}"), {
      missing: ["NOPE", "ALSO_NOPE"],
    });
  });

  it("leaves text without ${ alone and reads $${ as a literal ${", () => {
    assert.equal(fill("a $ b $HOST").value, "a $ b $HOST");
    assert.equal(fill("$${HOST}").value, "${HOST}");
    assert.equal(fill("").value, "");
  });

  it("rejects malformed references", () => {
    assert.match(
      (parseTemplate("${HOST") as { error: string }).error,
      /unterminated/,
    );
    assert.match(
      (parseTemplate("${1BAD}") as { error: string }).error,
      /malformed \$\{1BAD\}/,
    );
    assert.match(
      (parseTemplate("${}") as { error: string }).error,
      /malformed/,
    );
  });

  it("lists the variables a template reads", () => {
    assert.deepEqual(
      varsOf(parseTemplate("${A}:${B:x}/${A}") as Template),
      ["A", "B", "A"],
    );
  });
});

describe("interpolation of any text", () => {
  it("never throws; text with $${ for every ${ reads back as written", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        parseTemplate(text);
        assert.deepEqual(fill(text.replaceAll("${", () => "$${")), {
          value: text,
          missing: [],
        });
      }),
      { numRuns: 2_000 },
    );
  });

  it("fills in a reference between any texts, or its default", () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
    // A "$" right before a reference would read as "$${", the escape.
    const text = fc.string().map((s) => s.replaceAll("${", () => "$${"));
    const before = text.filter((s) => !s.endsWith("$"));
    const fallback = fc.string().filter((s) => !s.includes("}"));
    fc.assert(
      fc.property(before, name, fallback, text, (before, n, d, after) => {
        const template = parseTemplate(`${before}\${${n}:${d}}${after}`);
        const value = (s: string) => s.replaceAll("$${", "${");
        assert.deepEqual(render(template as Template, () => undefined), {
          value: value(before) + d + value(after),
          missing: [],
        });
        assert.equal(
          render(template as Template, () => "x").value,
          value(before) + "x" + value(after),
        );
      }),
      { numRuns: 2_000 },
    );
  });
});
