import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as v from "valibot";
import { duration, parseDuration } from "./mod.ts";

describe("parseDuration", () => {
  it("reads units h, m, s and ms, alone and combined", () => {
    assert.equal(parseDuration("5s"), 5_000);
    assert.equal(parseDuration("250ms"), 250);
    assert.equal(parseDuration("1m"), 60_000);
    assert.equal(parseDuration("1h"), 3_600_000);
    assert.equal(parseDuration("1m30s"), 90_000);
    assert.equal(parseDuration("1h2m3s4ms"), 3_723_004);
    assert.equal(parseDuration("1.5h"), 5_400_000);
    assert.equal(parseDuration(" 2s "), 2_000);
  });

  it("reads plain numbers as milliseconds", () => {
    assert.equal(parseDuration("1500"), 1_500);
    assert.equal(parseDuration("0.5"), 0.5);
    assert.equal(parseDuration(250), 250);
    assert.equal(parseDuration(0), 0);
  });

  it("rejects anything else", () => {
    for (const bad of ["", "s", "5x", "-5s", "5 s", "5s 3m", "1d", "abc"]) {
      assert.equal(parseDuration(bad), undefined, bad);
    }
    assert.equal(parseDuration(-1), undefined);
    assert.equal(parseDuration(Number.NaN), undefined);
    assert.equal(parseDuration(Number.POSITIVE_INFINITY), undefined);
  });
});

describe("duration()", () => {
  const schema = v.object({ timeout: v.optional(duration(), "30s") });

  it("yields milliseconds, defaults included", () => {
    assert.deepEqual(v.parse(schema, {}), { timeout: 30_000 });
    assert.deepEqual(v.parse(schema, { timeout: "250ms" }), { timeout: 250 });
    assert.deepEqual(v.parse(schema, { timeout: 1_000 }), { timeout: 1_000 });
  });

  it("rejects malformed, zero and negative durations with a message", () => {
    for (const bad of ["soon", "0s", 0, -5, true]) {
      const result = v.safeParse(schema, { timeout: bad });
      assert.equal(result.success, false, String(bad));
      assert.match(
        result.issues![0].message,
        /expected a (positive )?duration/,
      );
    }
  });

  it("accepts zero with allowZero, still not negative or malformed", () => {
    const delay = v.object({
      delay: v.optional(duration({ allowZero: true }), "0s"),
    });
    assert.deepEqual(v.parse(delay, {}), { delay: 0 });
    assert.deepEqual(v.parse(delay, { delay: 0 }), { delay: 0 });
    assert.deepEqual(v.parse(delay, { delay: "5s" }), { delay: 5_000 });
    for (const bad of ["soon", "-1s", -5, true]) {
      assert.equal(v.safeParse(delay, { delay: bad }).success, false, `${bad}`);
    }
  });
});

describe("parseDuration on any text", () => {
  it("adds up any combination of units", () => {
    const n = fc.nat({ max: 10_000 });
    fc.assert(
      fc.property(n, n, n, n, (h, m, s, ms) => {
        assert.equal(
          parseDuration(` ${h}h${m}m${s}s${ms}ms `),
          ((h * 60 + m) * 60 + s) * 1_000 + ms,
        );
        assert.equal(parseDuration(String(ms)), ms);
      }),
    );
  });

  it("returns a finite number of milliseconds or undefined, never throwing", () => {
    const text = fc.oneof(
      fc.string(),
      fc.stringMatching(/^[0-9.]{1,400}(ms|s|m|h)?$/),
    );
    fc.assert(
      fc.property(text, (input) => {
        const ms = parseDuration(input);
        assert.ok(ms === undefined || (Number.isFinite(ms) && ms >= 0), input);
      }),
      { numRuns: 2_000 },
    );
    assert.equal(parseDuration("9".repeat(400)), undefined);
    assert.equal(parseDuration(`${"9".repeat(400)}h`), undefined);
  });
});
