import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeEntry, encodeEntry, MISSING, VALUE } from "./entry.ts";

describe("entry", () => {
  it("round-trips kind, freshness and bytes (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(VALUE, MISSING),
        fc.oneof(fc.double({ noNaN: true }), fc.constant(Infinity)),
        fc.oneof(fc.double({ min: 0, noNaN: true }), fc.constant(Infinity)),
        fc.uint8Array(),
        (kind, freshUntil, grace, bytes) => {
          const staleUntil = freshUntil + grace;
          fc.pre(!Number.isNaN(staleUntil));
          const entry = decodeEntry(
            encodeEntry(kind, freshUntil, staleUntil, bytes),
          );
          assert.deepEqual(entry, { kind, freshUntil, staleUntil, bytes });
        },
      ),
    );
  });

  it("reads any bytes as an entry or as not ours, never throwing (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (stored) => {
        const entry = decodeEntry(stored);
        if (entry !== undefined) {
          assert.ok(entry.kind === VALUE || entry.kind === MISSING);
          assert.ok(entry.staleUntil >= entry.freshUntil);
          assert.equal(entry.bytes.length, stored.length - 17);
        }
      }),
      { numRuns: 5_000 },
    );
    assert.equal(decodeEntry(new Uint8Array([1, 2])), undefined);
    assert.equal(decodeEntry(new Uint8Array(20).fill(7)), undefined);
    const inverted = encodeEntry(VALUE, 2, 1, new Uint8Array());
    assert.equal(decodeEntry(inverted), undefined);
  });

  it("reads a view at an offset (Buffer pools)", () => {
    const stored = encodeEntry(VALUE, 42, 43, new Uint8Array([5]));
    const pool = new Uint8Array(100);
    pool.set(stored, 13);
    const entry = decodeEntry(pool.subarray(13, 13 + stored.length));
    assert.deepEqual(entry, {
      kind: VALUE,
      freshUntil: 42,
      staleUntil: 43,
      bytes: new Uint8Array([5]),
    });
  });
});
