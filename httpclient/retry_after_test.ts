import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseRetryAfter } from "./retry_after.ts";

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);
const CAP = 30_000;

describe("parseRetryAfter", () => {
  it("reads delay-seconds and the three HTTP-date forms", () => {
    assert.equal(parseRetryAfter("0", NOW, CAP), 0);
    assert.equal(parseRetryAfter(" 7 ", NOW, CAP), 7_000);
    assert.equal(
      parseRetryAfter("Fri, 04 Dec 2026 12:00:05 GMT", NOW, CAP),
      5_000,
    );
    assert.equal(
      parseRetryAfter("Friday, 04-Dec-26 12:00:05 GMT", NOW, CAP),
      5_000,
    );
    assert.equal(parseRetryAfter("Fri Dec  4 12:00:05 2026", NOW, CAP), 5_000);
  });

  it("caps huge values and floors past dates at 0", () => {
    assert.equal(parseRetryAfter("99999999999999999999999", NOW, CAP), CAP);
    assert.equal(
      parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", NOW, CAP),
      CAP,
    );
    assert.equal(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", NOW, CAP), 0);
  });

  it("refuses garbage", () => {
    for (
      const value of [
        null,
        "",
        "-1",
        "1.5",
        "1e3",
        "0x10",
        "soon",
        "Fri, 31 Feb 2026 12:00:00 GMT",
        "Fri, 04 Dec 2026 25:00:00 GMT",
        "Fri, 04 Foo 2026 12:00:00 GMT",
        "2026-12-04T12:00:05Z",
        "1".repeat(201),
      ]
    ) {
      assert.equal(parseRetryAfter(value, NOW, CAP), undefined, String(value));
    }
  });

  it("gives undefined or a delay in [0, cap] for any string (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.nat(100_000), (s, cap) => {
        const ms = parseRetryAfter(s, NOW, cap);
        return ms === undefined || (ms >= 0 && ms <= cap);
      }),
    );
  });

  it("reads back any whole number of seconds (property)", () => {
    fc.assert(
      fc.property(
        fc.nat(),
        (n) => parseRetryAfter(String(n), NOW, Infinity) === n * 1_000,
      ),
    );
  });

  it("reads back any date it is given as IMF-fixdate (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(9999, 0, 1) }),
        (at) => {
          const whole = Math.floor(at / 1_000) * 1_000;
          const text = new Date(whole).toUTCString();
          return parseRetryAfter(text, 0, Infinity) === whole;
        },
      ),
    );
  });
});
