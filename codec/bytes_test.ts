import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { bytes, toCodec } from "./mod.ts";
import { throwsInvalid } from "./testdata/assert.ts";

describe("bytes", () => {
  it("is named bytes, as application/octet-stream", () => {
    assert.equal(bytes.name, "bytes");
    assert.equal(bytes.contentType, "application/octet-stream");
    assert.equal(toCodec(bytes), bytes);
  });

  it("returns the bytes it is given, not a copy, both ways (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array(), (value) => {
        assert.equal(bytes.encode(value), value);
        assert.equal(bytes.decode(value), value);
      }),
    );
  });

  it("takes a subarray and a Buffer as they are", () => {
    const view = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
    assert.equal(bytes.decode(view), view);
    const buffer = Buffer.from("abc");
    assert.equal(bytes.encode(buffer), buffer);
  });

  it("rejects anything but a Uint8Array with invalid_input", () => {
    for (const value of ["abc", new ArrayBuffer(1), [1], null, undefined]) {
      throwsInvalid(() => bytes.decode(value as never), "bytes");
      throwsInvalid(() => bytes.encode(value as never), "bytes");
    }
    assert.equal(
      throwsInvalid(() => bytes.decode("abc" as never), "bytes").message,
      "invalid bytes: expected a Uint8Array, got string",
    );
  });

  it("is frozen", () => {
    assert.ok(Object.isFrozen(bytes));
  });
});
