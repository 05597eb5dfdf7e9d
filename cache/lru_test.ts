import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Lru } from "./lru.ts";

const bytes = (n: number) => new Uint8Array(n);

describe("Lru", () => {
  it("evicts the least recently used past maxEntries", () => {
    const lru = new Lru({ maxEntries: 2, maxBytes: 1_000 });
    lru.set("a", bytes(1), Infinity);
    lru.set("b", bytes(1), Infinity);
    lru.get("a", 0); // a is now the most recent
    lru.set("c", bytes(1), Infinity);
    assert.equal(lru.has("b", 0), false);
    assert.equal(lru.has("a", 0), true);
    assert.equal(lru.has("c", 0), true);
  });

  it("counts keys and values against maxBytes, and refuses an entry larger than all", () => {
    const lru = new Lru({ maxEntries: 100, maxBytes: 100 });
    assert.equal(lru.set("a", bytes(40), Infinity), true); // 2 + 40
    assert.equal(lru.set("b", bytes(40), Infinity), true); // 2 + 40
    assert.equal(lru.bytes, 84);
    lru.set("c", bytes(40), Infinity);
    assert.equal(lru.has("a", 0), false);
    assert.equal(lru.bytes, 84);
    assert.equal(lru.set("big", bytes(200), Infinity), false);
    assert.equal(lru.has("big", 0), false);
    lru.set("b", bytes(10), Infinity); // replacing frees the old size
    assert.equal(lru.bytes, 54);
  });

  it("expires entries at their time", () => {
    const lru = new Lru({ maxEntries: 10, maxBytes: 1_000 });
    lru.set("a", bytes(1), 100);
    assert.ok(lru.get("a", 99));
    assert.equal(lru.get("a", 100), undefined);
    assert.equal(lru.size, 0);
    lru.set("b", bytes(1), 100);
    assert.equal(lru.delete("b", 100), false);
  });

  it("never exceeds its limits, and its byte count is exact (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(
          fc.tuple(
            fc.constantFrom("set", "get", "delete"),
            fc.string({ maxLength: 3 }),
            fc.integer({ min: 0, max: 120 }),
          ),
        ),
        (maxEntries, maxBytes, ops) => {
          const lru = new Lru({ maxEntries, maxBytes });
          const model = new Map<string, number>();
          for (const [op, key, size] of ops) {
            if (op === "set") {
              if (lru.set(key, bytes(size), Infinity)) model.set(key, size);
              else model.delete(key);
            } else if (op === "get") lru.get(key, 0);
            else lru.delete(key, 0);
            assert.ok(lru.size <= maxEntries);
            assert.ok(lru.bytes <= maxBytes);
          }
          let held = 0;
          for (const [key, size] of model) {
            if (lru.has(key, 0)) held += key.length * 2 + size;
          }
          assert.equal(lru.bytes, held);
        },
      ),
    );
  });
});
