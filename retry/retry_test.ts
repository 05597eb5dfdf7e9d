import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type CqiError, notFound, rateLimited, temporary } from "@cqi/errors";
import {
  constant,
  linear,
  retry,
  retryAll,
  retryNone,
  type RetryOptions,
} from "./mod.ts";
import { deferred, FakeClock, seeded } from "./testdata/fake_clock.ts";

/** A function that fails `failures` times with `error`, then returns "ok". */
function flaky(failures: number, error: () => unknown = () => temporary("x")) {
  let calls = 0;
  const fn = () => {
    calls++;
    if (calls <= failures) throw error();
    return "ok";
  };
  return { fn, calls: () => calls };
}

const instant = (options: RetryOptions = {}) => {
  const clock = new FakeClock();
  return { clock, options: { clock, jitter: 0, ...options } };
};

describe("retry", () => {
  it("returns the first success and passes 1-based attempts and a signal", async () => {
    const seen: number[] = [];
    const { options } = instant();
    const result = await retry(({ attempt, signal }) => {
      seen.push(attempt);
      assert.ok(signal instanceof AbortSignal);
      if (attempt < 3) throw temporary("not yet");
      return Promise.resolve(attempt * 10);
    }, options);
    assert.equal(result, 30);
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it("waits the default exponential schedule, capped, for 10 attempts", async () => {
    const { clock, options } = instant();
    const { fn, calls } = flaky(Infinity);
    await assert.rejects(retry(fn, options), { kind: "temporary" });
    assert.equal(calls(), 10);
    assert.deepEqual(
      clock.sleeps,
      [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000],
    );
  });

  it("jitters the waits with the injected random source", async () => {
    const clock = new FakeClock();
    const { fn } = flaky(3);
    await retry(fn, { clock, random: () => 0 });
    assert.deepEqual(clock.sleeps, [75, 150, 300]);
  });

  it("uses a backoff strategy value", async () => {
    const { clock } = instant();
    await retry(flaky(3).fn, { clock, backoff: linear({ jitter: 0 }) });
    assert.deepEqual(clock.sleeps, [100, 200, 300]);
    const custom = new FakeClock();
    await retry(flaky(2).fn, { clock: custom, backoff: (n) => 7 * (n + 1) });
    assert.deepEqual(custom.sleeps, [7, 14]);
  });

  it("throws the last error unchanged after maxAttempts", async () => {
    const errors: CqiError[] = [];
    const { options } = instant({ maxAttempts: 3 });
    const thrown = await retry(() => {
      const error = temporary(`failure ${errors.length + 1}`);
      errors.push(error);
      throw error;
    }, options).catch((e) => e);
    assert.equal(errors.length, 3);
    assert.equal(thrown, errors[2]);
  });

  it("makes a single attempt with maxAttempts 1", async () => {
    const { fn, calls } = flaky(Infinity);
    await assert.rejects(retry(fn, instant({ maxAttempts: 1 }).options));
    assert.equal(calls(), 1);
  });

  it("retries only what retryTemporary accepts by default", async () => {
    const { fn, calls } = flaky(5, () => notFound("order", 1));
    await assert.rejects(retry(fn, instant().options), { kind: "not_found" });
    assert.equal(calls(), 1);
    const plain = flaky(5, () => new Error("bug"));
    await assert.rejects(retry(plain.fn, instant().options), /bug/);
    assert.equal(plain.calls(), 1);
    const network = flaky(2, () => new TypeError("fetch failed"));
    assert.equal(await retry(network.fn, instant().options), "ok");
    assert.equal(network.calls(), 3);
  });

  it("retries everything with retryAll and nothing with retryNone", async () => {
    const all = flaky(4, () => new Error("anything"));
    assert.equal(
      await retry(all.fn, instant({ retryIf: retryAll }).options),
      "ok",
    );
    assert.equal(all.calls(), 5);
    const none = flaky(4);
    await assert.rejects(
      retry(none.fn, instant({ retryIf: retryNone }).options),
    );
    assert.equal(none.calls(), 1);
  });

  it("asks a predicate policy about each error", async () => {
    const asked: unknown[] = [];
    const errors = [new Error("again"), new Error("again"), new Error("stop")];
    let i = 0;
    const thrown = await retry(
      () => {
        throw errors[i++];
      },
      instant({
        retryIf: (error) => {
          asked.push(error);
          return (error as Error).message === "again";
        },
      }).options,
    ).catch((e) => e);
    assert.deepEqual(asked, errors);
    assert.equal(thrown, errors[2]);
  });

  it("waits at least retryAfter, but not less than the backoff", async () => {
    const { clock, options } = instant();
    let calls = 0;
    await retry(() => {
      calls++;
      if (calls === 1) throw rateLimited("slow down", { retryAfter: 3_000 });
      if (calls === 2) throw temporary("down", { retryAfter: 50 });
      if (calls === 3) {
        throw new Error("wrapped", {
          cause: temporary("down", { retryAfter: 1_234 }),
        });
      }
    }, options);
    assert.deepEqual(clock.sleeps, [3_000, 200, 1_234]);
  });

  it("stops once maxElapsed leaves no room for the next wait", async () => {
    const { clock, options } = instant({ maxElapsed: 1_000 });
    const { fn, calls } = flaky(Infinity);
    await assert.rejects(retry(fn, options), { kind: "temporary" });
    // 100 + 200 + 400 = 700 ms waited; another 800 would end at 1,500.
    assert.deepEqual(clock.sleeps, [100, 200, 400]);
    assert.equal(calls(), 4);
  });

  it("counts the time spent in fn towards maxElapsed", async () => {
    const clock = new FakeClock();
    let calls = 0;
    await assert.rejects(
      retry(() => {
        calls++;
        clock.time += 450;
        throw temporary("slow failure");
      }, { clock, jitter: 0, maxElapsed: 1_000 }),
    );
    // 450 + 100 + 450 = 1,000 at the second failure; 200 more is too much.
    assert.equal(calls, 2);
  });

  it("does not wait out a retryAfter beyond maxElapsed", async () => {
    const { clock, options } = instant({ maxElapsed: 10_000 });
    await assert.rejects(
      retry(() => {
        throw rateLimited("quota", { retryAfter: 60_000 });
      }, options),
      { kind: "rate_limited" },
    );
    assert.deepEqual(clock.sleeps, []);
  });

  it("calls onRetry with the attempt, its error and the next delay", async () => {
    const events: unknown[] = [];
    const errors = [temporary("a"), temporary("b")];
    let i = 0;
    await retry(() => {
      if (i < errors.length) throw errors[i++];
    }, instant({ onRetry: (event) => events.push(event) }).options);
    assert.deepEqual(events, [
      { attempt: 1, error: errors[0], delay: 100 },
      { attempt: 2, error: errors[1], delay: 200 },
    ]);
  });

  it("ends with the error of a throwing onRetry", async () => {
    const { fn, calls } = flaky(5);
    await assert.rejects(
      retry(fn, {
        ...instant().options,
        onRetry: () => {
          throw new Error("hook broke");
        },
      }),
      /hook broke/,
    );
    assert.equal(calls(), 1);
  });

  it("passes the caller's signal to fn", async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    await retry(({ signal }) => {
      seen = signal;
    }, { signal: controller.signal });
    assert.equal(seen, controller.signal);
  });

  it("rejects with the abort reason during the wait, without another attempt", async () => {
    const clock = new FakeClock({ auto: false });
    const controller = new AbortController();
    const waiting = deferred();
    const { fn, calls } = flaky(Infinity);
    const result = retry(fn, {
      clock,
      signal: controller.signal,
      onRetry: () => waiting.resolve(),
    });
    await waiting.promise;
    assert.equal(clock.pending, 1);
    const reason = new Error("shutting down");
    controller.abort(reason);
    await assert.rejects(result, (e) => e === reason);
    assert.equal(calls(), 1);
    assert.equal(clock.pending, 0);
  });

  it("rejects with the abort reason at once during fn, even if fn ignores it", async () => {
    const controller = new AbortController();
    const started = deferred();
    const result = retry(() => {
      started.resolve();
      return new Promise(() => {}); // never settles
    }, { signal: controller.signal, clock: new FakeClock() });
    await started.promise;
    controller.abort(new Error("cancelled"));
    await assert.rejects(result, /cancelled/);
  });

  it("throws the abort reason, not fn's error, when fn fails because of the abort", async () => {
    const controller = new AbortController();
    const result = retry(({ signal }) =>
      new Promise((_, reject) => {
        signal.addEventListener("abort", () => reject(temporary("aborted io")));
        controller.abort(new Error("the reason"));
      }), { signal: controller.signal, retryIf: retryAll });
    await assert.rejects(result, /the reason/);
  });

  it("does not call fn when the signal is already aborted", async () => {
    let called = false;
    const reason = new DOMException("too late", "AbortError");
    await assert.rejects(
      retry(() => {
        called = true;
      }, { signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
    assert.equal(called, false);
  });

  it("waits on the real clock by default", async () => {
    const { fn, calls } = flaky(2);
    const result = await retry(fn, { initialDelay: 1, maxDelay: 2 });
    assert.equal(result, "ok");
    assert.equal(calls(), 3);
  });

  it("rejects bad arguments with errors naming them", async () => {
    const ok = () => "ok";
    await assert.rejects(
      retry("nope" as unknown as () => void),
      { name: "TypeError", message: /fn must be a function/ },
    );
    await assert.rejects(retry(ok, { maxAttempts: 0 }), {
      name: "RangeError",
      message: /maxAttempts/,
    });
    await assert.rejects(retry(ok, { maxAttempts: 2.5 }), /maxAttempts/);
    await assert.rejects(retry(ok, { maxElapsed: -1 }), /maxElapsed/);
    await assert.rejects(retry(ok, { jitter: 2 }), /jitter/);
    await assert.rejects(retry(ok, { initialDelay: -1 }), /initialDelay/);
    await assert.rejects(
      retry(ok, { backoff: constant(5), initialDelay: 10 }),
      { name: "TypeError", message: /either backoff or initialDelay/ },
    );
    await assert.rejects(
      retry(ok, { backoff: 5 as unknown as () => number }),
      /backoff must be a function/,
    );
    await assert.rejects(
      retry(flaky(1).fn, { backoff: () => NaN }),
      { name: "RangeError", message: /backoff returned NaN/ },
    );
  });

  it("accepts maxAttempts Infinity, bounded by maxElapsed", async () => {
    const { fn, calls } = flaky(Infinity);
    await assert.rejects(
      retry(fn, instant({ maxAttempts: Infinity, maxElapsed: 60_000 }).options),
    );
    assert.equal(calls(), 17); // 100..3,200 (6,300 ms), then 5,000 each
  });

  it("never exceeds maxAttempts nor the delay bound (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 25 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer(),
        async (maxAttempts, failures, initialDelay, extra, jitter, seed) => {
          const clock = new FakeClock();
          const maxDelay = initialDelay + extra;
          let calls = 0;
          await retry(() => {
            if (++calls <= failures) throw temporary("x");
          }, {
            clock,
            maxAttempts,
            initialDelay,
            maxDelay,
            jitter,
            random: seeded(seed),
          }).catch(() => {});
          assert.ok(calls <= maxAttempts);
          assert.equal(calls, Math.min(failures + 1, maxAttempts));
          assert.equal(clock.sleeps.length, calls - 1);
          for (const delay of clock.sleeps) {
            assert.ok(delay >= 0 && delay <= maxDelay * (1 + jitter));
          }
        },
      ),
    );
  });
});
