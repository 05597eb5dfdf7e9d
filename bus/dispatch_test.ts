import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { IncomingRecord } from "./backends/driver.ts";
import { Dispatcher } from "./dispatch.ts";

function records(
  keys: (string | undefined)[],
  partition = 0,
): IncomingRecord[] {
  return keys.map((key, i) => ({
    topic: "t",
    partition,
    offset: String(i),
    key,
    value: new Uint8Array(),
    headers: {},
    timestamp: 0,
    lag: undefined,
  }));
}

const tick = () => new Promise((r) => setImmediate(r));

describe("Dispatcher", () => {
  it("runs keys in parallel up to the limit, one at a time per key, in order", async () => {
    const order: string[] = [];
    const busy = new Set<string>();
    let most = 0;
    const dispatcher = new Dispatcher(2, async (r) => {
      const lane = r.key ?? "none";
      assert.ok(!busy.has(lane), `two of ${lane} at once`);
      busy.add(lane);
      most = Math.max(most, busy.size);
      await tick();
      busy.delete(lane);
      order.push(`${lane}${r.offset}`);
    });
    const batch = records(["a", "b", "a", "c", undefined, "b", undefined, "a"]);
    assert.equal(await dispatcher.run(batch), batch.length);
    assert.equal(most, 2);
    const of = (lane: string) => order.filter((o) => o.startsWith(lane));
    assert.deepEqual(of("a"), ["a0", "a2", "a7"]);
    assert.deepEqual(of("b"), ["b1", "b5"]);
    assert.deepEqual(of("none"), ["none4", "none6"]);
  });

  it("shares the limit across batches run at once", async () => {
    let busy = 0;
    let most = 0;
    const dispatcher = new Dispatcher(3, async () => {
      most = Math.max(most, ++busy);
      await tick();
      busy--;
    });
    await Promise.all([
      dispatcher.run(records(["a", "b", "c", "d"], 0)),
      dispatcher.run(records(["e", "f", "g", "h"], 1)),
    ]);
    assert.equal(most, 3);
  });

  it("stops at a rejection and reports the handled prefix", async () => {
    const started: string[] = [];
    const dispatcher = new Dispatcher(1, (r) => {
      started.push(r.offset);
      return r.offset === "2"
        ? Promise.reject(new Error("closing"))
        : Promise.resolve();
    });
    assert.equal(await dispatcher.run(records(["a", "a", "a", "a", "a"])), 2);
    assert.deepEqual(started, ["0", "1", "2"]);
  });

  it("counts the prefix, not the total, when a later key finished first", async () => {
    const gate = Promise.withResolvers<void>();
    const dispatcher = new Dispatcher(4, async (r) => {
      if (r.key === "slow") {
        await gate.promise;
        throw new Error("closing");
      }
      if (r.offset === "2") gate.resolve();
    });
    // offsets 0 (slow) fails; 1 and 2 (fast) succeed: nothing is committable.
    assert.equal(await dispatcher.run(records(["slow", "fast", "fast"])), 0);
  });
});
