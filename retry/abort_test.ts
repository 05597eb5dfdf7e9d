import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { raceSignal } from "./abort.ts";

describe("raceSignal", () => {
  it("settles as the promise without a signal or before an abort", async () => {
    assert.equal(await raceSignal(Promise.resolve(1), undefined), 1);
    const controller = new AbortController();
    assert.equal(await raceSignal(Promise.resolve(2), controller.signal), 2);
    await assert.rejects(
      raceSignal(Promise.reject(new Error("own")), controller.signal),
      /own/,
    );
  });

  it("rejects with the reason, or what reason() makes of it, and handles the late outcome", async () => {
    const controller = new AbortController();
    let fail!: (error: Error) => void;
    const work = new Promise<never>((_, reject) => fail = reject);
    const waiting = raceSignal(
      work,
      controller.signal,
      (s) => `mapped ${s.reason}`,
    );
    controller.abort("stop");
    assert.equal(await waiting.catch((e) => e), "mapped stop");
    fail(new Error("late")); // handled: no unhandled rejection
    const aborted = AbortSignal.abort("already");
    assert.equal(
      await raceSignal(Promise.reject(new Error("x")), aborted).catch((e) => e),
      "already",
    );
  });
});
