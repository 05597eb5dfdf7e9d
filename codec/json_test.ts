import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as v from "valibot";
import { z } from "zod";
import { CqiError, type StandardSchemaV1 } from "@cqi/errors";
import { json } from "./mod.ts";
import {
  assertInvalid,
  decodeOrInvalid,
  thrown,
  throwsInvalid,
} from "./testdata/assert.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

const ValibotOrder = v.object({
  sku: v.pipe(v.string(), v.nonEmpty()),
  quantity: v.number(),
  items: v.optional(v.array(v.object({ price: v.number() }))),
});
const ZodOrder = z.object({
  sku: z.string().min(1),
  quantity: z.number(),
  items: z.array(z.object({ price: z.number() })).optional(),
});

describe("json", () => {
  it("round-trips any JSON without a schema, as application/json", () => {
    const codec = json();
    assert.equal(codec.name, "JSON");
    assert.equal(codec.contentType, "application/json");
    const value = { a: [1, "two", null, true, { b: "€ 𝄞" }] };
    const bytes = codec.encode(value);
    assert.equal(new TextDecoder().decode(bytes), JSON.stringify(value));
    assert.deepEqual(codec.decode(bytes), value);
    // fresh: what it decodes never views its input
    assert.equal(codec.fresh, true);
    const decoded = codec.decode(bytes) as typeof value;
    bytes.fill(0x20);
    assert.deepEqual(decoded, value);
  });

  it("round-trips arbitrary JSON values (property)", () => {
    const codec = json();
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        // JSON itself turns -0 into 0: compare with what JSON makes of it
        const expected = JSON.parse(JSON.stringify(value));
        assert.deepEqual(codec.decode(codec.encode(value)), expected);
      }),
    );
  });

  for (
    const [vendor, schema] of [
      ["valibot", ValibotOrder],
      ["zod", ZodOrder],
    ] as const
  ) {
    describe(`with a ${vendor} schema`, () => {
      const codec = json(schema, { name: "Order" });

      it("decodes a valid value to the schema's output", () => {
        const order = { sku: "BTC", quantity: 2, items: [{ price: 1.5 }] };
        const decoded = codec.decode(codec.encode(order));
        assert.deepEqual(decoded, order);
        const quantity: number = decoded.quantity; // typed by the schema
        assert.equal(quantity, 2);
      });

      it("names every bad field's path, never its value", () => {
        const error = throwsInvalid(
          () =>
            codec.decode(utf8(
              '{"sku":"","quantity":"secret-7","items":[{"price":"hidden"}]}',
            )),
          "Order",
        );
        assert.equal(
          error.message,
          "invalid Order: sku, quantity, items.0.price",
        );
        assert.deepEqual(error.fields, {
          sku: "is invalid",
          quantity: "is invalid",
          "items.0.price": "is invalid",
        });
        const text = JSON.stringify([error.message, error.fields]);
        assert.ok(!/secret|hidden/.test(text), text);
        assert.equal(
          error.cause,
          undefined,
          "the issues, which may quote values, are not kept",
        );
      });

      it("says which fields are missing", () => {
        const error = throwsInvalid(() => codec.decode(utf8("{}")), "Order");
        assert.equal(error.message, "invalid Order: sku, quantity");
        assert.deepEqual(error.fields, {
          sku: "is required",
          quantity: "is required",
        });
      });

      it("says a value of the wrong shape does not match", () => {
        const error = throwsInvalid(() => codec.decode(utf8("7")), "Order");
        assert.equal(error.message, "invalid Order: does not match the schema");
        assert.deepEqual(error.fields, { "(value)": "is invalid" });
      });

      it("returns a value or throws invalid_input for arbitrary bytes (property)", () => {
        const bytes = fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.jsonValue().map((value) => utf8(JSON.stringify(value))),
          fc.record({ sku: fc.jsonValue(), quantity: fc.jsonValue() }, {
            requiredKeys: [],
          }).map((value) => utf8(JSON.stringify(value))),
        );
        fc.assert(
          fc.property(bytes, (b) => {
            decodeOrInvalid((x) => codec.decode(x), b, "Order");
          }),
          { numRuns: 1_000 },
        );
      });
    });
  }

  it("names at most 20 fields", () => {
    const codec = json(v.record(v.string(), v.number()), { name: "Prices" });
    const body = Object.fromEntries(
      Array.from({ length: 25 }, (_, i) => [`k${i}`, "x"]),
    );
    const error = throwsInvalid(
      () => codec.decode(utf8(JSON.stringify(body))),
      "Prices",
    );
    assert.match(error.message, /k19 and 5 more$/);
    assert.equal(Object.keys(error.fields ?? {}).length, 20);
  });

  it("keeps a __proto__ path as a field, not as a prototype", () => {
    const schema: StandardSchemaV1<unknown, never> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: () => ({ issues: [{ message: "no", path: ["__proto__"] }] }),
      },
    };
    const error = throwsInvalid(() => json(schema).decode(utf8("{}")), "JSON");
    assert.equal(error.message, "invalid JSON: __proto__");
    assert.equal(Object.getPrototypeOf(error.fields), Object.prototype);
    assert.ok(Object.hasOwn(error.fields ?? {}, "__proto__"));
  });

  describe("decoding bytes that are not JSON", () => {
    const codec = json(undefined, { name: "Quote" });
    const cases: Array<[string, Uint8Array, string]> = [
      ["empty", new Uint8Array(), "not valid JSON"],
      [
        "not UTF-8",
        new Uint8Array([0x22, 0xc3, 0x28, 0x22]),
        "not valid UTF-8",
      ],
      [
        "a lone surrogate's bytes",
        new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22]),
        "not valid UTF-8",
      ],
      ["truncated", utf8('{"a":'), "not valid JSON"],
      ["trailing garbage", utf8("{} x"), "not valid JSON"],
    ];
    for (const [what, bytes, reason] of cases) {
      it(`rejects ${what}: "${reason}"`, () => {
        const error = throwsInvalid(() => codec.decode(bytes), "Quote");
        assert.equal(error.message, `invalid Quote: ${reason}`);
      });
    }

    it("rejects a value that is not a Uint8Array", () => {
      for (const value of ['{"a":1}', null, 42]) {
        throwsInvalid(() => codec.decode(value as never), "Quote");
      }
    });
  });

  describe("deeply nested values", () => {
    const depth = 100_000;
    const deep = utf8("[".repeat(depth) + "]".repeat(depth));
    type Tree = Tree[];

    it("parses them without a schema", () => {
      let value = json<Tree>().decode(deep);
      let levels = 1;
      while (value.length > 0) {
        value = value[0];
        levels++;
      }
      assert.equal(levels, depth);
    });

    it("turns a recursive valibot schema's stack overflow into invalid_input", () => {
      const Tree: v.GenericSchema<Tree> = v.lazy(() => v.array(Tree));
      const error = throwsInvalid(
        () => json(Tree, { name: "Tree" }).decode(deep),
        "Tree",
      );
      assert.equal(error.message, "invalid Tree: nested too deeply");
      assert.ok(error.cause instanceof RangeError);
    });

    it("turns zod's promise after an overflow into invalid_input", () => {
      const Tree: z.ZodType<Tree> = z.lazy(() => z.array(Tree));
      const error = throwsInvalid(
        () => json(Tree, { name: "Tree" }).decode(deep),
        "Tree",
      );
      assert.equal(error.message, "invalid Tree: nested too deeply");
    });
  });

  it("refuses an asynchronous schema with a permanent error", () => {
    const codec = json(
      v.pipeAsync(v.string(), v.checkAsync(() => Promise.resolve(true))),
      { name: "Async" },
    );
    const error = thrown(() => codec.decode(utf8('"x"')));
    assert.ok(error instanceof CqiError);
    assert.equal(error.kind, "permanent");
    assert.match(error.message, /asynchronous/);
    const rejecting: StandardSchemaV1<unknown, string> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: () => Promise.reject(new Error("never awaited")),
      },
    };
    // the rejection is handled: no unhandled-rejection crash follows
    assert.equal(
      thrown(() => json(rejecting).decode(utf8("1"))) instanceof CqiError,
      true,
    );
  });

  it("turns a schema that throws into invalid_input with the cause", () => {
    const codec = json(
      v.pipe(
        v.string(),
        v.transform((s) => {
          throw new Error(`cannot read ${s}`);
        }),
      ),
      { name: "Weird" },
    );
    const error = throwsInvalid(() => codec.decode(utf8('"x"')), "Weird");
    assert.equal(error.message, "invalid Weird: the schema failed");
    assert.ok(error.cause instanceof Error);
  });

  describe("encoding", () => {
    const codec = json(undefined, { name: "Order" });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: Array<[string, unknown]> = [
      ["undefined", undefined],
      ["a function", () => 1],
      ["a symbol", Symbol("s")],
      ["a BigInt", { n: 1n }],
      ["a cycle", cyclic],
      ["a throwing toJSON", {
        toJSON: () => {
          throw new Error("no");
        },
      }],
    ];
    for (const [what, value] of cases) {
      it(`rejects ${what} with invalid_input`, () => {
        const error = throwsInvalid(() => codec.encode(value), "Order");
        assert.match(error.message, /cannot be written as JSON$/);
      });
    }

    it("writes lone surrogates as escapes that read back", () => {
      const text = "a\ud800b";
      assert.equal(codec.decode(codec.encode(text)), text);
    });
  });

  it("rejects a schema that is not a Standard Schema", () => {
    assert.throws(() => json({} as never), TypeError);
  });

  it("fails every way with invalid_input for arbitrary bytes, schema or not (property)", () => {
    const codecs = [json(), json(ValibotOrder), json(ZodOrder)];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), (bytes) => {
        for (const codec of codecs) {
          try {
            codec.decode(bytes);
          } catch (error) {
            assertInvalid(error, "JSON");
          }
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
