import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { cqiSchema, duration, secret } from "./mod.ts";
import { describe as shapeOf, validate } from "./valibot_adapter.ts";

describe("describe", () => {
  it("unwraps optional, nullable and piped schemas, keeping defaults and metadata", () => {
    const schema = v.nullable(
      v.optional(v.pipe(duration(), v.description("How long.")), "5s"),
    );
    const shape = shapeOf(schema);
    assert.equal(shape.kind, "union"); // a duration is a number or a string
    assert.equal(shape.label, "duration");
    assert.equal(shape.optional, true);
    assert.equal(shape.hasDefault, true);
    assert.equal(shape.default, "5s");
    assert.equal(shape.description, "How long.");
    const required = shapeOf(v.nonOptional(v.optional(v.string())));
    assert.equal(required.optional, true);
    assert.equal(shapeOf(v.string()).optional, false);
  });

  it("describes what is inside: fields, items, options and values", () => {
    const shape = shapeOf(v.object({
      list: v.array(v.pipe(v.number(), v.integer())),
      map: v.record(v.string(), v.boolean()),
      pick: v.picklist(["a", "b"]),
      either: v.union([v.literal(3), secret()]),
      loose: v.looseObject({}),
    }));
    const { list, map, pick, either, loose } = shape.entries!;
    assert.equal(shape.label, "mapping");
    assert.deepEqual([list.kind, list.item?.kind, list.label], [
      "list",
      "number",
      "list of integer",
    ]);
    assert.deepEqual([map.kind, map.item?.kind, map.label], [
      "record",
      "boolean",
      "record",
    ]);
    assert.deepEqual([pick.kind, pick.values, pick.label], [
      "picklist",
      ["a", "b"],
      '"a" | "b"',
    ]);
    assert.deepEqual(either.options?.map((o) => [o.kind, o.values, o.secret]), [
      ["literal", [3], false],
      ["string", undefined, true],
    ]);
    assert.equal(either.label, "literal or secret");
    assert.deepEqual([loose.kind, loose.label], ["object", "loose_object"]);
  });
});

describe("validate", () => {
  it("returns the output, or every issue in the loader's terms", () => {
    const ok = validate(cqiSchema, { service: { name: "svc" } });
    assert.equal(ok.ok && ok.value.server.port, 8080);
    const bad = validate(cqiSchema, {
      server: { port: "http" },
      database: { host: "db", database: "a", maxConnections: 1 },
    });
    assert.deepEqual(!bad.ok && bad.issues, [
      {
        path: ["service"],
        message: "expected a mapping",
        missing: true,
        received: "undefined",
      },
      {
        path: ["server", "port"],
        message: "expected a number",
        missing: false,
        received: '"http"',
      },
      {
        path: ["database", "minConnections"],
        message: "expected at most maxConnections",
        missing: false,
      },
    ]);
  });
});
