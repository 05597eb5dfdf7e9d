import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { constant, exponential, linear } from "./mod.ts";
import { seeded } from "./testdata/fake_clock.ts";

const DRAWS = 10_000;

/** Draws `DRAWS` delays and returns their extremes. */
function extremes(draw: (random: () => number) => number) {
  const random = seeded(42);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < DRAWS; i++) {
    const delay = draw(random);
    min = Math.min(min, delay);
    max = Math.max(max, delay);
  }
  return { min, max };
}

describe("exponential", () => {
  it("doubles from 100 ms and caps at 5 s by default", () => {
    const backoff = exponential({ jitter: 0 });
    const delays = Array.from({ length: 10 }, (_, n) => backoff(n));
    assert.deepEqual(
      delays,
      [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000],
    );
    assert.equal(backoff(10_000), 5000); // multiplier ** n overflows to Infinity
  });

  it("follows initialDelay, multiplier and maxDelay", () => {
    const backoff = exponential({
      initialDelay: 10,
      multiplier: 3,
      maxDelay: 200,
      jitter: 0,
    });
    assert.deepEqual([0, 1, 2, 3, 4].map((n) => backoff(n)), [
      10,
      30,
      90,
      200,
      200,
    ]);
  });

  it("stays at 0 with an initial delay of 0, even when the power overflows", () => {
    const backoff = exponential({ initialDelay: 0, jitter: 0 });
    assert.equal(backoff(0), 0);
    assert.equal(backoff(5_000), 0);
  });

  it("keeps ±25% jitter within bounds over 10,000 draws, and uses the range", () => {
    const backoff = exponential();
    for (const [n, base] of [[0, 100], [3, 800], [20, 5000]]) {
      const { min, max } = extremes((random) => backoff(n, random));
      assert.ok(min >= base * 0.75, `retries=${n}: min ${min}`);
      assert.ok(max <= base * 1.25, `retries=${n}: max ${max}`);
      assert.ok(min < base * 0.76 && max >= base * 1.24, "spread too narrow");
    }
  });

  it("spreads full jitter over [0, delay]", () => {
    const backoff = exponential({ jitter: "full" });
    const { min, max } = extremes((random) => backoff(2, random));
    assert.ok(min >= 0 && max <= 400, `${min}..${max}`);
    assert.ok(min < 4 && max > 396, "spread too narrow");
  });

  it("maps random 0 and ~1 to the ends of the jitter range", () => {
    const backoff = exponential({ jitter: 0.5 });
    assert.equal(backoff(0, () => 0), 50);
    assert.equal(backoff(0, () => 0.5), 100);
    assert.equal(backoff(0, () => 0.999999), 149); // whole milliseconds
  });

  it("uses Math.random when no random source is given", () => {
    const delay = exponential()(1);
    assert.ok(delay >= 150 && delay <= 250, String(delay));
  });

  it("rejects out-of-range options, naming them", () => {
    assert.throws(() => exponential({ initialDelay: -1 }), {
      name: "RangeError",
      message: /initialDelay/,
    });
    assert.throws(() => exponential({ maxDelay: Infinity }), /maxDelay/);
    assert.throws(() => exponential({ multiplier: 0.5 }), /multiplier/);
    assert.throws(() => exponential({ multiplier: NaN }), /multiplier/);
    assert.throws(() => exponential({ jitter: 1.5 }), /jitter/);
    assert.throws(
      () => exponential({ jitter: "half" as "full" }),
      /jitter/,
    );
    assert.throws(
      () => exponential({ initialDelay: 600, maxDelay: 500 }),
      /maxDelay \(500\) must be >= initialDelay \(600\)/,
    );
  });

  it("keeps every delay within [0, maxDelay * (1 + jitter)] (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          initialDelay: fc.integer({ min: 0, max: 10_000 }),
          extra: fc.integer({ min: 0, max: 100_000 }),
          multiplier: fc.double({ min: 1, max: 10, noNaN: true }),
          jitter: fc.oneof(
            fc.double({ min: 0, max: 1, noNaN: true }),
            fc.constant("full" as const),
          ),
        }),
        fc.integer({ min: 0, max: 2_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        ({ initialDelay, extra, multiplier, jitter }, retries, r) => {
          const maxDelay = initialDelay + extra;
          const backoff = exponential({
            initialDelay,
            maxDelay,
            multiplier,
            jitter,
          });
          const delay = backoff(retries, () => r);
          const spread = jitter === "full" ? 0 : jitter;
          return delay >= 0 && delay <= maxDelay * (1 + spread);
        },
      ),
    );
  });
});

describe("linear", () => {
  it("adds initialDelay per retry by default, up to the cap", () => {
    const backoff = linear({ initialDelay: 100, maxDelay: 350, jitter: 0 });
    assert.deepEqual([0, 1, 2, 3, 9].map((n) => backoff(n)), [
      100,
      200,
      300,
      350,
      350,
    ]);
  });

  it("uses increment when given, and jitters", () => {
    const backoff = linear({ initialDelay: 1000, increment: 500 });
    assert.equal(backoff(2, () => 0.5), 2000);
    assert.equal(backoff(2, () => 0), 1500);
    const { min, max } = extremes((random) => backoff(0, random));
    assert.ok(min >= 750 && max <= 1250);
  });

  it("rejects out-of-range options", () => {
    assert.throws(() => linear({ increment: -5 }), /increment/);
    assert.throws(() => linear({ jitter: -0.1 }), /jitter/);
    assert.throws(() => linear({ initialDelay: 10, maxDelay: 5 }), RangeError);
  });
});

describe("constant", () => {
  it("returns the same delay, jittered ±25% by default", () => {
    assert.equal(constant(1000, { jitter: 0 })(0), 1000);
    assert.equal(constant(1000, { jitter: 0 })(50), 1000);
    const backoff = constant(1000);
    const { min, max } = extremes((random) => backoff(7, random));
    assert.ok(min >= 750 && max <= 1250 && min < 760 && max > 1240);
  });

  it("supports full jitter and rejects a bad delay", () => {
    assert.equal(constant(1000, { jitter: "full" })(0, () => 0.25), 250);
    assert.throws(() => constant(-1), /delay/);
    assert.throws(() => constant(NaN), RangeError);
  });
});
