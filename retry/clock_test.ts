import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { systemClock } from "./clock.ts";

describe("systemClock", () => {
  it("reads Date.now", () => {
    const before = Date.now();
    const now = systemClock.now();
    assert.ok(now >= before && now <= Date.now());
  });

  it("sleeps for the given milliseconds", async () => {
    const start = performance.now();
    await systemClock.sleep(5);
    assert.ok(performance.now() - start >= 4);
    await systemClock.sleep(0);
  });

  it("rejects with the signal's reason when aborted", async () => {
    const controller = new AbortController();
    const sleeping = systemClock.sleep(60_000, controller.signal);
    controller.abort(new Error("woken"));
    await assert.rejects(sleeping, /woken/);
    await assert.rejects(
      systemClock.sleep(1, AbortSignal.abort(new Error("already"))),
      /already/,
    );
  });

  it("waits only for the signal when told to sleep forever", async () => {
    const controller = new AbortController();
    const sleeping = systemClock.sleep(Infinity, controller.signal);
    let settled = false;
    sleeping.catch(() => settled = true);
    await systemClock.sleep(2);
    assert.equal(settled, false);
    controller.abort(new Error("enough"));
    await assert.rejects(sleeping, /enough/);
  });
});
