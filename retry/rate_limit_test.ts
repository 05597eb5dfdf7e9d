import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { isRateLimited } from "@cqi/errors";
import { createRateLimiter } from "./mod.ts";
import { FakeClock } from "./testdata/fake_clock.ts";

describe("createRateLimiter", () => {
  it("allows a burst, then refills at the rate", () => {
    const clock = new FakeClock();
    const limiter = createRateLimiter({ rate: 10, burst: 3, clock });
    assert.deepEqual(
      [1, 2, 3, 4].map(() => limiter.tryAcquire()),
      [true, true, true, false],
    );
    clock.time += 99;
    assert.equal(limiter.tryAcquire(), false);
    clock.time += 1;
    assert.equal(limiter.tryAcquire(), true);
    clock.time += 10_000;
    assert.equal(limiter.available, 3); // never more than the burst
  });

  it("defaults the burst to one second's worth, at least 1", () => {
    const clock = new FakeClock();
    assert.equal(createRateLimiter({ rate: 5, clock }).available, 5);
    assert.equal(createRateLimiter({ rate: 0.5, clock }).available, 1);
  });

  it("makes waiting callers queue in order at the rate", async () => {
    const clock = new FakeClock({ auto: false });
    const limiter = createRateLimiter({ rate: 10, burst: 1, clock });
    const order: number[] = [];
    const calls = [0, 1, 2].map((i) =>
      limiter.acquire().then(() => order.push(i))
    );
    await Promise.resolve();
    assert.deepEqual(order, [0]);
    assert.deepEqual(clock.sleeps, [100, 200]);
    clock.advance(100);
    await calls[1];
    assert.deepEqual(order, [0, 1]);
    clock.advance(100);
    await Promise.all(calls);
    assert.deepEqual(order, [0, 1, 2]);
    assert.equal(limiter.tryAcquire(), false);
  });

  it("refuses a wait longer than maxWait with rate_limited and retryAfter", async () => {
    const clock = new FakeClock({ auto: false });
    const limiter = createRateLimiter({
      rate: 1,
      burst: 1,
      maxWait: 500,
      clock,
    });
    await limiter.acquire();
    await assert.rejects(limiter.acquire(), (error: unknown) => {
      assert.ok(isRateLimited(error));
      assert.equal((error as { retryAfter?: number }).retryAfter, 1_000);
      return true;
    });
    assert.equal(clock.pending, 0);
  });

  it("gives the token back when the wait is aborted", async () => {
    const clock = new FakeClock({ auto: false });
    const limiter = createRateLimiter({ rate: 1, burst: 1, clock });
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    assert.equal(limiter.available, -1);
    const reason = new Error("caller left");
    controller.abort(reason);
    await assert.rejects(waiting, (error) => error === reason);
    assert.equal(limiter.available, 0);
    await assert.rejects(
      limiter.acquire(AbortSignal.abort(reason)),
      (e) => e === reason,
    );
  });

  it("waits on the real clock", async () => {
    const limiter = createRateLimiter({ rate: 200, burst: 1 });
    const started = performance.now();
    await limiter.acquire();
    await limiter.acquire();
    assert.ok(performance.now() - started >= 4);
  });

  it("never lets more than burst + rate * t calls through (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 1_000, noNaN: true }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 100 }),
        (rate, burst, steps) => {
          const clock = new FakeClock();
          const limiter = createRateLimiter({ rate, burst, clock });
          let granted = 0;
          for (const step of steps) {
            clock.time += step;
            if (limiter.tryAcquire()) granted++;
          }
          return granted <= burst + rate * clock.time / 1_000 + 1e-6;
        },
      ),
    );
  });

  it("rejects out-of-range options, naming them", () => {
    for (const rate of [0, -1, Infinity, NaN]) {
      assert.throws(() => createRateLimiter({ rate }), {
        name: "RangeError",
        message: /rate/,
      });
    }
    assert.throws(() => createRateLimiter({ rate: 1, burst: 0.5 }), /burst/);
    assert.throws(() => createRateLimiter({ rate: 1, maxWait: -1 }), /maxWait/);
  });
});
