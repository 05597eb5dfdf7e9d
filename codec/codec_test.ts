import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { type Timestamp, TimestampSchema } from "@bufbuild/protobuf/wkt";
import * as v from "valibot";
import { invalidInput } from "@cqi/errors";
import {
  bytes,
  type Codec,
  json,
  protobuf,
  toCodec,
  type ValueOf,
  type ValueSchema,
} from "./mod.ts";
import {
  type Asset,
  AssetSchema,
} from "../proto/gen/cqc/entities/v1/asset_pb.ts";
import { throwsInvalid } from "./testdata/assert.ts";

/** Compile-time check that two types are the same. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends
  (<T>() => T extends B ? 1 : 2) ? true : false;
const same = <A, B>(_proof: Equal<A, B>) => {};

/** A hand-written codec, as a cache or bus user might bring. */
const upper: Codec<string> = {
  name: "upper",
  contentType: "text/plain",
  encode: (value) => new TextEncoder().encode(value.toUpperCase()),
  decode: (data) => {
    if (data.length === 0) throw invalidInput("invalid upper: empty");
    return new TextDecoder().decode(data);
  },
};

/** What a cache method does with a ValueSchema. */
function roundTrip<S extends ValueSchema>(
  schema: S,
  value: ValueOf<S>,
): ValueOf<S> {
  const codec = toCodec(schema);
  return codec.decode(codec.encode(value));
}

describe("toCodec", () => {
  it("resolves a protobuf schema to its protobuf codec, once per schema", () => {
    const codec = toCodec(AssetSchema);
    assert.equal(codec.name, "cqc.entities.v1.Asset");
    assert.equal(codec.contentType, "application/x-protobuf");
    assert.equal(toCodec(AssetSchema), codec);
    assert.equal(protobuf(AssetSchema), codec);
    assert.equal(toCodec(TimestampSchema), toCodec(TimestampSchema));
  });

  it("returns a codec itself", () => {
    const order = json(v.object({ id: v.string() }));
    assert.equal(toCodec(order), order);
    assert.equal(toCodec(bytes), bytes);
    assert.equal(toCodec(upper), upper);
  });

  it("types values by the schema", () => {
    same<ValueOf<typeof AssetSchema>, Asset>(true);
    same<ValueOf<typeof TimestampSchema>, Timestamp>(true);
    same<ValueOf<typeof bytes>, Uint8Array>(true);
    same<ValueOf<Codec<string>>, string>(true);
    const order = json(v.object({ id: v.string() }));
    same<ValueOf<typeof order>, { id: string }>(true);
    same<ReturnType<typeof toCodec<typeof AssetSchema>>, Codec<Asset>>(true);

    const asset = roundTrip(AssetSchema, create(AssetSchema, { id: "a" }));
    assert.equal(asset.id, "a");
    assert.equal(roundTrip(order, { id: "o" }).id, "o");
    assert.equal(roundTrip(upper, "abc"), "ABC");
    // @ts-expect-error: a Timestamp is not an Asset
    assert.throws(() => roundTrip(AssetSchema, create(TimestampSchema)));
  });

  it("passes a hand-written codec's errors through", () => {
    throwsInvalid(() => toCodec(upper).decode(new Uint8Array()), "upper");
  });

  it("rejects what is neither a schema nor a codec", () => {
    for (
      const value of [null, undefined, {}, { kind: "enum" }, { name: "x" }, "x"]
    ) {
      assert.throws(() => toCodec(value as never), TypeError);
    }
  });
});
