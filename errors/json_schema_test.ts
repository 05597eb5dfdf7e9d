import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as v from "valibot";
import { z } from "zod";
import {
  CqiError,
  isInvalidInput,
  isTooLarge,
  readJson,
  type StandardSchemaV1,
} from "./mod.ts";

const put = (body: string) =>
  new Request("http://localhost/", { method: "PUT", body });

/** The invalid_input error `promise` rejects with. */
async function invalid(promise: Promise<unknown>): Promise<CqiError> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(isInvalidInput(error), `expected invalid_input, got ${error}`);
  return error as CqiError;
}

// The quickstart's schema: its own messages.
const Position = v.object({
  assetId: v.pipe(
    v.string("must be a string"),
    v.nonEmpty("must not be empty"),
  ),
  quantity: v.pipe(v.number("must be a number"), v.finite("must be finite")),
}, "must be a JSON object");

// Library default messages, nested objects and arrays.
const ValibotOrder = v.object({
  customer: v.object({ name: v.string(), age: v.number() }),
  items: v.array(v.object({ sku: v.string(), quantity: v.number() })),
});
const ZodOrder = z.object({
  customer: z.object({ name: z.string(), age: z.number() }),
  items: z.array(z.object({ sku: z.string(), quantity: z.number() })),
});

describe("readJson with a schema", () => {
  it("returns the schema's typed output", async () => {
    const position = await readJson(
      put('{"assetId":"BTC","quantity":2,"extra":true}'),
      Position,
    );
    const quantity: number = position.quantity;
    // @ts-expect-error the output type has no such key
    void position.extra;
    assert.deepEqual(position, { assetId: "BTC", quantity });
    const order = await readJson(
      put('{"customer":{"name":"ada","age":36},"items":[]}'),
      ZodOrder,
    );
    const age: number = order.customer.age;
    assert.equal(age, 36);
  });

  it("names every bad field, with 'is required' for a missing key", async () => {
    const error = await invalid(
      readJson(put('{"assetId": 7, "quantity": "ten"}'), Position),
    );
    assert.equal(error.message, "invalid request body: assetId, quantity");
    assert.deepEqual(error.fields, {
      assetId: "must be a string",
      quantity: "must be a number",
    });
    const missing = await invalid(readJson(put("{}"), Position));
    assert.equal(missing.message, "invalid request body: assetId, quantity");
    assert.deepEqual(missing.fields, {
      assetId: "is required",
      quantity: "is required",
    });
    const empty = await invalid(
      readJson(put('{"assetId":"","quantity":1e999}'), Position),
    );
    assert.deepEqual(empty.fields, {
      assetId: "must not be empty",
      quantity: "must be finite",
    });
  });

  it("says a non-object body is not one", async () => {
    for (const body of ['"x"', "null", "3", "true"]) {
      const error = await invalid(readJson(put(body), Position));
      assert.equal(
        error.message,
        "invalid request body: must be a JSON object",
      );
      assert.deepEqual(error.fields, { "(body)": "must be a JSON object" });
    }
    // valibot takes an array for an object, whose keys are then missing
    const array = await invalid(readJson(put("[1]"), Position));
    assert.deepEqual(array.fields, {
      assetId: "is required",
      quantity: "is required",
    });
    const zod = await invalid(readJson(put("[1]"), ZodOrder));
    assert.match(zod.message, /^invalid request body: .*expected object/);
    assert.deepEqual(Object.keys(zod.fields ?? {}), ["(body)"]);
  });

  for (
    const [vendor, schema] of [["valibot", ValibotOrder], [
      "zod",
      ZodOrder,
    ]] as const
  ) {
    it(`gives nested and array paths (${vendor})`, async () => {
      const error = await invalid(readJson(
        put(JSON.stringify({
          customer: { name: "ada" },
          items: [{ sku: "a", quantity: 1 }, { sku: 5, quantity: 1 }, {}],
        })),
        schema,
      ));
      assert.equal(
        error.message,
        "invalid request body: customer.age, items.1.sku, items.2.sku, items.2.quantity",
      );
      assert.equal(error.fields?.["customer.age"], "is required");
      assert.equal(error.fields?.["items.2.sku"], "is required");
      assert.match(error.fields?.["items.1.sku"] ?? "", /string/i);
    });
  }

  it("awaits an asynchronous schema", async () => {
    const taken = new Set(["ada"]);
    const lookup = (name: string) =>
      new Promise<boolean>((resolve) =>
        setTimeout(() => resolve(!taken.has(name)), 1)
      );
    const valibot = v.objectAsync({
      name: v.pipeAsync(v.string(), v.checkAsync(lookup, "is taken")),
    });
    const zod = z.object({ name: z.string().refine(lookup, "is taken") });
    for (const schema of [valibot, zod]) {
      assert.deepEqual(await readJson(put('{"name":"bob"}'), schema), {
        name: "bob",
      });
      const error = await invalid(readJson(put('{"name":"ada"}'), schema));
      assert.deepEqual(error.fields, { name: "is taken" });
    }
    // a hand-written schema: issues with PathSegment objects
    const custom: StandardSchemaV1<unknown, { ok: true }> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value) =>
          Promise.resolve(
            value === true ? { value: { ok: true as const } } : {
              issues: [{ message: "nope", path: [{ key: "a" }, { key: 0 }] }],
            },
          ),
      },
    };
    const out: { ok: true } = await readJson(put("true"), custom);
    assert.deepEqual(out, { ok: true });
    const error = await invalid(readJson(put('{"a":[1]}'), custom));
    assert.deepEqual(error.fields, { "a.0": "nope" });
  });

  it("reads the body first: its size limit and its errors come before the schema", async () => {
    const large = await readJson(put('{"assetId":"BTC"}'), Position, {
      maxBytes: 4,
    }).catch((e) => e);
    assert.ok(isTooLarge(large));
    const error = await invalid(readJson(put("{oops"), Position));
    assert.match(error.message, /not valid JSON/);
    // the options-only form keeps working
    assert.deepEqual(await readJson(put("[1]"), { maxBytes: 10 }), [1]);
  });

  it("never echoes a value the client sent", async () => {
    const secret = 'hunter2 "quoted" \\ secret';
    const body = JSON.stringify({
      customer: { name: secret, age: 4111111111111111 },
      items: [{ sku: secret, quantity: 1.5 }],
    });
    // numbers where strings go and strings where numbers go: valibot's
    // default messages say `received "..."`, or the number
    const swapped = JSON.stringify({
      customer: { name: 4111111111111111, age: secret },
      items: [{ sku: -0.000123, quantity: secret }],
    });
    for (const schema of [ValibotOrder, ZodOrder]) {
      for (const text of [body, swapped, JSON.stringify(secret)]) {
        const result = await readJson(put(text), schema).catch((e) => e);
        if (!(result instanceof CqiError)) continue;
        const said = JSON.stringify([result.message, result.fields]);
        assert.doesNotMatch(said, /hunter2|4111111111111111|0\.000123/, said);
      }
    }
  });

  it("lists at most 20 fields, and keeps hostile keys as plain keys", async () => {
    const many = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`k${i}`, "x"]),
    );
    const error = await invalid(
      readJson(put(JSON.stringify(many)), v.record(v.string(), v.number())),
    );
    assert.equal(Object.keys(error.fields ?? {}).length, 20);
    assert.match(error.message, /, k19 and 10 more$/);
    // a schema that rejects every key (valibot's record drops these two)
    const everyKey: StandardSchemaV1 = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value) => ({
          issues: Object.keys(value as object).map((key) => ({
            message: "no",
            path: [key],
          })),
        }),
      },
    };
    const proto = await invalid(readJson(
      put('{"__proto__": "x", "constructor": "y"}'),
      everyKey,
    ));
    assert.deepEqual(Object.keys(proto.fields ?? {}).sort(), [
      "__proto__",
      "constructor",
    ]);
    assert.equal(Object.getPrototypeOf(proto.fields), Object.prototype);
    assert.equal(proto.fields?.["__proto__"], "no");
  });

  it("gives a typed value or an invalid_input error for any JSON body (property)", async () => {
    // Every string the client sends is marked, so that an echo shows.
    const marked = (value: unknown): unknown =>
      typeof value === "string"
        ? `§${value}`
        : Array.isArray(value)
        ? value.map(marked)
        : value !== null && typeof value === "object"
        ? Object.fromEntries(
          Object.entries(value).map(([k, x]) => [k, marked(x)]),
        )
        : value;
    const near = fc.record({
      customer: fc.oneof(
        fc.jsonValue(),
        fc.record({ name: fc.jsonValue(), age: fc.jsonValue() }, {
          requiredKeys: [],
        }),
      ),
      items: fc.oneof(
        fc.jsonValue(),
        fc.array(
          fc.record({ sku: fc.jsonValue(), quantity: fc.jsonValue() }, {
            requiredKeys: [],
          }),
          { maxLength: 4 },
        ),
      ),
    }, { requiredKeys: [] });
    const schemas = [ValibotOrder, ZodOrder, Position];
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.jsonValue(), near).map(marked),
        fc.constantFrom(...schemas),
        async (value, schema) => {
          const text = JSON.stringify(value);
          const result = await readJson(put(text), schema).then(
            (out) => ({ out }),
            (error) => ({ error }),
          );
          if ("out" in result) {
            const again = await schema["~standard"].validate(result.out);
            assert.equal(again.issues, undefined);
            return;
          }
          const { error } = result;
          assert.ok(isInvalidInput(error), String(error));
          assert.ok(error instanceof CqiError);
          assert.match(error.message, /^invalid request body: ./);
          const fields = error.fields ?? {};
          assert.ok(Object.keys(fields).length >= 1);
          assert.ok(Object.keys(fields).length <= 20);
          for (const message of Object.values(fields)) {
            assert.equal(typeof message, "string");
            assert.ok(!message.includes("§"), message);
          }
          assert.ok(!error.message.includes("§"), error.message);
        },
      ),
      { numRuns: 300 },
    );
  });
});
