import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as v from "valibot";
import { schemaError } from "./schema_error.ts";

const issuesOf = async (schema: v.GenericSchema, value: unknown) =>
  (await schema["~standard"].validate(value)).issues ?? [];

describe("schemaError", () => {
  it("names each bad path, never the value", async () => {
    const value = { id: 7, tags: ["secret-tag", 3] };
    const schema = v.object({ id: v.string(), tags: v.array(v.string()) });
    const error = schemaError("thing", await issuesOf(schema, value), value);
    assert.equal(error.kind, "invalid_input");
    assert.equal(error.message, "invalid thing: id, tags.1");
    assert.deepEqual(error.fields, {
      id: "is invalid",
      "tags.1": "is invalid",
    });
  });

  it("with messages, cuts what the value held out of them", async () => {
    const value = { code: "secret-code" };
    const schema = v.object({
      code: v.pipe(v.string(), v.check(() => false, 'bad code "secret-code"')),
    });
    const error = schemaError("body", await issuesOf(schema, value), value, {
      messages: true,
    });
    assert.deepEqual(error.fields, { code: 'bad code "…"' });
    assert.ok(!error.message.includes("secret"));
  });

  it("says what the root is when only the root is wrong", async () => {
    const issues = await issuesOf(v.string(), 5);
    assert.equal(
      schemaError("note", issues, 5).message,
      "invalid note: does not match the schema",
    );
    assert.match(
      schemaError("body", issues, 5, { root: "(body)", messages: true })
        .message,
      /^invalid body: Invalid type/,
    );
  });

  it("lists at most 20 fields", async () => {
    const shape = Object.fromEntries(
      Array.from({ length: 25 }, (_, i) => [`f${i}`, v.string()]),
    );
    const error = schemaError("wide", await issuesOf(v.object(shape), {}), {});
    assert.match(error.message, / and 5 more$/);
    assert.equal(Object.keys(error.fields ?? {}).length, 20);
  });
});
