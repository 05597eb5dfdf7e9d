// Fuzzing what the cache reads back (issue 20). Two ways in: bytes stored
// under a key through the public API (another service, or an older schema,
// wrote them) and then read as `cqc.events.v1.PositionChanged`; and whole
// stored entries, header included, as a Redis holding anything would hand
// them over. `get`/`find`/`getMany` answer the value or a typed error
// (`invalid_input` for bytes that do not decode, `not_found` for an entry
// that is not one of ours); `getOrLoad` answers the value or loads anew.
// Never a crash, never an untyped error.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createCache } from "@cqi/cache";
import { bytes as rawBytes } from "@cqi/codec";
import { CqiError } from "@cqi/errors";
import { create } from "@bufbuild/protobuf";
// Stored entries (the 17-byte header and the value) can only be written
// below the public API: the cache client over a memory driver, from the
// module's own files.
import { CacheClient } from "../../cache/cache.ts";
import { memoryDriver } from "../../cache/backends/memory.ts";
import { RUNS, TIMEOUT } from "./_hostile.ts";
import { PositionChangedSchema, protobufBytes } from "./_protobuf.ts";

const TYPE = "cqc.events.v1.PositionChanged";
const fresh = () =>
  create(PositionChangedSchema, { eventId: "loaded", sequence: 7n });

function assertTyped(error: unknown, kinds: readonly string[]): void {
  assert.ok(error instanceof CqiError, `untyped: ${String(error)}`);
  assert.ok(kinds.includes(error.kind), `${error.kind}: ${error.message}`);
}

describe("fuzz: protobuf values in the cache", () => {
  it(
    `bytes stored under a key read back as a value or a typed error (${RUNS} cases)`,
    {
      timeout: TIMEOUT,
    },
    async () => {
      await using cache = createCache("memory://", {
        service: { name: "fuzz" },
      });
      let decoded = 0;
      await fc.assert(
        fc.asyncProperty(protobufBytes, async (stored) => {
          await cache.set("k", rawBytes, stored, { ttl: 60_000 });
          try {
            const value = await cache.get("k", PositionChangedSchema);
            assert.equal(value.$typeName, TYPE);
            decoded++;
          } catch (error) {
            assertTyped(error, ["invalid_input"]);
          }
          // getOrLoad: the stored value, or a load that replaces it.
          const loaded = await cache.getOrLoad(
            "k",
            PositionChangedSchema,
            () => Promise.resolve(fresh()),
            { ttl: 60_000 },
          );
          assert.equal(loaded.$typeName, TYPE);
        }),
        { numRuns: RUNS },
      );
      assert.ok(decoded > 0, "no generated value decoded");
    },
  );

  it(`any stored entry is a value, a miss or a typed error (${RUNS} cases)`, {
    timeout: TIMEOUT,
  }, async () => {
    const driver = memoryDriver(
      { maxEntries: 1_000, maxBytes: 1 << 20 },
      Date.now,
    );
    await using cache = new CacheClient({
      driver,
      system: "memory",
      service: "fuzz",
      keyVersion: 1,
      hooks: {},
      channel: "",
      jitter: 0,
      random: Math.random,
      now: Date.now,
      closeTimeout: 0,
    });
    const now = Date.now();
    const time = fc.oneof(
      fc.constantFrom(now + 60_000, now - 60_000, Infinity, -Infinity, NaN, 0),
      fc.double(),
    );
    const header = fc.tuple(fc.constantFrom(0, 1, 2, 3, 255), time, time).map(
      ([kind, freshUntil, staleUntil]) => {
        const h = new Uint8Array(17);
        h[0] = kind;
        const view = new DataView(h.buffer);
        view.setFloat64(1, freshUntil);
        view.setFloat64(9, staleUntil);
        return h;
      },
    );
    const entry = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.tuple(header, protobufBytes).map(([h, b]) =>
          new Uint8Array([...h, ...b])
        ),
      },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
    );
    let values = 0;
    await fc.assert(
      fc.asyncProperty(entry, async (stored) => {
        await driver.setMany([{ key: "k", value: stored, ttl: 60_000 }]);
        try {
          const found = await cache.find("k", PositionChangedSchema);
          if (found !== undefined) {
            assert.equal(found.$typeName, TYPE);
            values++;
          }
        } catch (error) {
          assertTyped(error, ["invalid_input"]);
        }
        try {
          const [many] = await cache.getMany(["k"], PositionChangedSchema);
          if (many !== undefined) assert.equal(many.$typeName, TYPE);
        } catch (error) {
          assertTyped(error, ["invalid_input"]);
        }
        await driver.setMany([{ key: "k", value: stored, ttl: 60_000 }]);
        try {
          const loaded = await cache.getOrLoad(
            "k",
            PositionChangedSchema,
            () => Promise.resolve(fresh()),
            { ttl: 60_000, negativeTtl: 60_000, grace: 60_000 },
          );
          assert.equal(loaded.$typeName, TYPE);
        } catch (error) {
          // a stored "not found" (kind byte 2) is remembered as not_found
          assertTyped(error, ["not_found"]);
        }
      }),
      { numRuns: RUNS },
    );
    assert.ok(values > 0, "no generated entry was a value");
  });
});
