import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { coerce } from "./coerce.ts";
import type { ConfigProblem } from "./error.ts";
import { merge } from "./merge.ts";
import { type ConfigSchema, describe as shape } from "./valibot_adapter.ts";

const node = (schema: ConfigSchema) => shape(schema);
const env = { kind: "env" as const, env: "X" };

describe("coerce", () => {
  it("converts numbers and leaves what is not one", () => {
    assert.equal(coerce(node(v.number()), " 42 "), 42);
    assert.equal(coerce(node(v.number()), "-1.5e2"), -150);
    assert.equal(coerce(node(v.number()), "4 2"), "4 2");
    assert.equal(coerce(node(v.number()), ""), "");
    assert.equal(coerce(node(v.optional(v.number(), 1)), "7"), 7);
  });

  it("converts booleans and leaves anything else", () => {
    assert.equal(coerce(node(v.boolean()), "On"), true);
    assert.equal(coerce(node(v.boolean()), "0"), false);
    assert.equal(coerce(node(v.boolean()), "maybe"), "maybe");
  });

  it("matches enum options in any case", () => {
    assert.equal(coerce(node(v.picklist(["a", "Bb"])), "bB"), "Bb");
    assert.equal(coerce(node(v.picklist(["a"])), "z"), "z");
    enum Mode {
      Fast = "fast",
    }
    assert.equal(coerce(node(v.enum(Mode)), "FAST"), "fast");
  });

  it("converts literals and unions without a string option", () => {
    assert.equal(coerce(node(v.literal(3)), "3"), 3);
    assert.equal(coerce(node(v.literal(true)), "true"), true);
    assert.equal(coerce(node(v.literal(3)), "4"), "4");
    const numberOrFlag = node(v.union([v.number(), v.boolean()]));
    assert.equal(coerce(numberOrFlag, "5"), 5);
    assert.equal(coerce(numberOrFlag, "yes"), true);
    assert.equal(coerce(numberOrFlag, "x"), "x");
    assert.equal(coerce(node(v.union([v.string(), v.number()])), "5"), "5");
  });

  it("leaves strings and unknown schema types alone", () => {
    assert.equal(coerce(node(v.string()), " a "), " a ");
    assert.equal(coerce(node(v.any()), "1"), "1");
  });
});

describe("merge: coercion of structured values", () => {
  it("reads a JSON object where a mapping is expected", () => {
    const schema = node(v.object({
      limits: v.optional(
        v.union([v.object({ max_open: v.number() }), v.number()]),
      ),
    }));
    const warnings: ConfigProblem[] = [];
    const root = {
      value: new Map([[
        "limits",
        { value: '{"max_open": "3", "extra": 1}', source: env },
      ]]),
      source: env,
    };
    const problems: ConfigProblem[] = [];
    const merged = merge(schema, root, new Map(), problems, warnings);
    assert.deepEqual(problems, []);
    assert.deepEqual(merged.value, { limits: { max_open: 3 } });
    assert.deepEqual(warnings, []);
    assert.deepEqual(merged.jsonWarnings.map((w) => w.path), ["limits.extra"]);
  });

  it("keeps values under a key the schema does not know", () => {
    const root = {
      value: new Map([["other", {
        value: new Map([["x", { value: "1", source: env }]]),
        source: env,
      }]]),
      source: env,
    };
    const warnings: ConfigProblem[] = [];
    const schema = node(v.object({ other: v.any() }));
    const { value } = merge(schema, root, new Map(), [], warnings);
    assert.deepEqual(value, { other: { x: "1" } });
    assert.deepEqual(warnings, []);
  });
});
