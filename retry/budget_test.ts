import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { temporary } from "@cqi/errors";
import { createRetryBudget, retry } from "./mod.ts";
import { FakeClock } from "./testdata/fake_clock.ts";

describe("retryBudget", () => {
  it("earns ratio retries per call on top of the per-second reserve", () => {
    const clock = new FakeClock();
    const budget = createRetryBudget({
      ratio: 0.5,
      minRetriesPerSecond: 0.1,
      window: 10_000,
      clock,
    });
    assert.equal(budget.balance, 1); // 0.1/s over 10 s
    assert.equal(budget.tryWithdraw(), true);
    assert.equal(budget.tryWithdraw(), false);
    budget.deposit();
    assert.equal(budget.tryWithdraw(), false); // 0.5 is not a whole retry
    budget.deposit();
    assert.equal(budget.balance, 1);
    assert.equal(budget.tryWithdraw(), true);
    assert.equal(budget.balance, 0);
  });

  it("forgets calls and retries that left the window", () => {
    const clock = new FakeClock();
    const budget = createRetryBudget({
      ratio: 1,
      minRetriesPerSecond: 0,
      clock,
    });
    budget.deposit();
    budget.deposit();
    assert.equal(budget.tryWithdraw(), true);
    assert.equal(budget.balance, 1);
    clock.time += 10_000;
    assert.equal(budget.balance, 0);
    assert.equal(budget.tryWithdraw(), false);
  });

  it("tolerates float rounding in ratio * calls", () => {
    const budget = createRetryBudget({ ratio: 0.7, minRetriesPerSecond: 0 });
    for (let i = 0; i < 90; i++) budget.deposit();
    let retries = 0;
    while (budget.tryWithdraw()) retries++;
    assert.equal(retries, 63);
  });

  it("caps the retries of a retry storm", async () => {
    const clock = new FakeClock();
    const budget = createRetryBudget({
      ratio: 0.1,
      minRetriesPerSecond: 0,
      clock,
    });
    let attempts = 0;
    const call = () =>
      retry(() => {
        attempts++;
        throw temporary("down");
      }, { clock, budget, maxAttempts: 10, initialDelay: 0 }).catch(() => {});
    for (let i = 0; i < 100; i++) await call();
    // 100 calls without a budget would make 1,000 attempts.
    assert.equal(attempts, 110);
  });

  it("rejects out-of-range options, naming them", () => {
    assert.throws(() => createRetryBudget({ ratio: -0.1 }), {
      name: "RangeError",
      message: /ratio/,
    });
    assert.throws(
      () => createRetryBudget({ minRetriesPerSecond: Infinity }),
      /minRetriesPerSecond/,
    );
    assert.throws(() => createRetryBudget({ window: 0 }), /window/);
  });
});
