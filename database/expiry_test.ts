import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expireAfter } from "./expiry.ts";

describe("expireAfter", () => {
  it("fires each expiry once, no earlier than asked and at most ~1/64 later", async () => {
    const fired: number[] = [];
    const started = performance.now();
    const done = Promise.withResolvers<void>();
    for (const ms of [50, 200, 200, 400]) {
      expireAfter(ms, () => {
        fired.push(performance.now() - started);
        if (fired.length === 4) done.resolve();
      });
    }
    await done.promise;
    const [a, b, c, d] = fired;
    assert.ok(a >= 49 && b >= 199 && c >= 199 && d >= 399, fired.join());
    assert.ok(d < 400 + 8 + 50, fired.join()); // a 4 ms slot, plus timer lag
  });

  it("never fires an expiry of Infinity (a timer would fire it at once)", async () => {
    let fired = false;
    const never = expireAfter(Infinity, () => fired = true);
    const later = Promise.withResolvers<void>();
    expireAfter(20, () => later.resolve());
    await later.promise;
    assert.equal(fired, false);
    never.cancel();
  });

  it("never fires a cancelled expiry, even when its slot's timer does", async () => {
    // (the kept one keeps the process alive; the cancelled one alone would not)
    let cancelled = 0;
    const kept = Promise.withResolvers<void>();
    expireAfter(30, () => cancelled++).cancel();
    expireAfter(30, () => kept.resolve());
    await kept.promise;
    assert.equal(cancelled, 0);
  });
});
