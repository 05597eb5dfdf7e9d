import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { systemClock } from "./clock.ts";

describe("systemClock", () => {
  it("sleeps and tells the time", async () => {
    const before = systemClock.now();
    await systemClock.sleep(1);
    assert.ok(systemClock.now() >= before);
  });

  it("rejects with the signal's reason, at once or on abort", async () => {
    await assert.rejects(
      systemClock.sleep(10, AbortSignal.abort(new Error("early"))),
      /early/,
    );
    const controller = new AbortController();
    const sleeping = systemClock.sleep(60_000, controller.signal);
    controller.abort(new Error("late"));
    await assert.rejects(sleeping, /late/);
  });
});
