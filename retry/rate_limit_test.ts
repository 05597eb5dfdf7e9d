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
    await flush();
    assert.deepEqual(order, [0]);
    assert.deepEqual(clock.sleeps, [100]); // the first in the queue
    clock.advance(100);
    await calls[1];
    await flush();
    assert.deepEqual(order, [0, 1]);
    assert.deepEqual(clock.sleeps, [100, 100]);
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

  it("a clock stepping back costs at most one refill interval", () => {
    const clock = new FakeClock({ start: 10_000_000 });
    const limiter = createRateLimiter({ rate: 1, burst: 1, clock });
    assert.equal(limiter.tryAcquire(), true);
    clock.time -= 3_600_000;
    assert.equal(limiter.tryAcquire(), false);
    clock.time += 1_000;
    assert.equal(limiter.tryAcquire(), true);
  });

  it("aborted waiters never make room for a burst", async () => {
    const clock = new FakeClock({ auto: false });
    const limiter = createRateLimiter({ rate: 1, burst: 1, clock });
    const granted: number[] = [];
    const grant = () => granted.push(clock.now());
    await limiter.acquire().then(grant);
    const b = new AbortController();
    const waitB = limiter.acquire(b.signal).catch(() => {});
    const c = limiter.acquire().then(grant);
    b.abort();
    await waitB;
    const d = limiter.acquire().then(grant);
    for (let i = 0; i < 3_000; i++) {
      clock.advance(1);
      await flush();
    }
    await Promise.all([c, d]);
    assert.ok(
      granted.every((t, i) => i === 0 || t - granted[i - 1] >= 1_000),
      `${granted}`,
    );
  });

  it("grants at most burst + rate * t over any window, whatever waiters abort (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }).map((n) => n / 2),
        fc.integer({ min: 1, max: 4 }),
        fc.array(
          fc.oneof(
            {
              arbitrary: fc.record({ op: fc.constant("acquire" as const) }),
              weight: 4,
            },
            fc.record({ op: fc.constant("try" as const) }),
            {
              arbitrary: fc.record({
                op: fc.constant("abort" as const),
                which: fc.nat(),
              }),
              weight: 2,
            },
            fc.record({
              op: fc.constant("advance" as const),
              ms: fc.integer({ min: 0, max: 1_500 }),
            }),
          ),
          { maxLength: 30 },
        ),
        async (rate, burst, ops) => {
          const clock = new FakeClock({ auto: false });
          const limiter = createRateLimiter({ rate, burst, clock });
          const granted: number[] = [];
          const waiting: AbortController[] = [];
          for (const step of ops) {
            if (step.op === "acquire") {
              const controller = new AbortController();
              waiting.push(controller);
              limiter.acquire(controller.signal).then(
                () => granted.push(clock.now()),
                () => {},
              );
            } else if (step.op === "try") {
              if (limiter.tryAcquire()) granted.push(clock.now());
            } else if (step.op === "abort") {
              waiting[step.which % (waiting.length || 1)]?.abort();
            } else {
              for (let i = 0; i < step.ms; i++) {
                clock.advance(1);
                await flush();
              }
            }
            await flush();
          }
          for (const controller of waiting) controller.abort();
          await flush();
          for (let i = 0; i < granted.length; i++) {
            for (let j = i; j < granted.length; j++) {
              const allowed = burst + rate * (granted[j] - granted[i]) / 1_000;
              if (j - i + 1 > allowed + 1e-6) return false;
            }
          }
          return true;
        },
      ),
      {
        numRuns: 100,
        examples: [[1, 1, [
          { op: "acquire" },
          { op: "acquire" },
          { op: "acquire" },
          { op: "abort", which: 1 },
          { op: "acquire" },
          { op: "advance", ms: 3_000 },
        ]]],
      },
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

  it("keeps up its rate with a burst of 1 on real timers (late, never early)", async () => {
    // 1 ms timers wake late: the tokens due meanwhile go to the waiters
    const limiter = createRateLimiter({ rate: 2_000, burst: 1 });
    const started = performance.now();
    await Promise.all(Array.from({ length: 301 }, () => limiter.acquire()));
    const took = performance.now() - started;
    // 300 tokens after the first: 150 ms at 2,000/s
    assert.ok(took >= 148, `${took} ms`);
    assert.ok(took < 400, `${took} ms`);
  });
});

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
