import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRegistry } from "./mod.ts";

describe("default process metrics", () => {
  it("never expose NaN or the event-loop monitor's empty-state sentinel", async () => {
    const registry = createRegistry({ namespace: "fresh" });
    const text = await registry.metrics();
    assert.match(text, /process_cpu_user_seconds_total/);
    assert.ok(!/ NaN$/m.test(text), "no NaN sample");
    assert.ok(!text.includes("9223372036"), "no int64-max sentinel");
  });
});
