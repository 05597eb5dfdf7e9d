import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { closest, editDistance, unknownMessage } from "./suggest.ts";

describe("suggestions", () => {
  it("measures edit distance", () => {
    assert.equal(editDistance("kitten", "sitting"), 3);
    assert.equal(editDistance("", "abc"), 3);
    assert.equal(editDistance("same", "same"), 0);
    assert.equal(editDistance("hots", "host"), 1);
  });

  it("suggests the closest likely typo, ignoring case", () => {
    const keys = ["CQI_DATABASE_HOST", "CQI_DATABASE_PORT", "CQI_CACHE_HOST"];
    assert.equal(closest("CQI_DATABSE_HOST", keys), "CQI_DATABASE_HOST");
    assert.equal(closest("cqi_database_port", keys), "CQI_DATABASE_PORT");
    assert.equal(closest("CQI_SOMETHING_ELSE", keys), undefined);
    assert.equal(closest("ab", ["ac"]), "ac");
    assert.equal(closest("ab", ["xy"]), undefined);
  });

  it("words the warning with or without a suggestion", () => {
    assert.equal(
      unknownMessage("key", "hots", ["host", "port"]),
      "unknown key (ignored); did you mean host?",
    );
    assert.equal(
      unknownMessage("key", "zzzzzz", ["host"]),
      "unknown key (ignored)",
    );
  });
});

describe("suggestions for any name", () => {
  it("suggest only candidates within the allowed edits, quickly for long names", () => {
    const name = fc.string({ maxLength: 12, unit: "binary" });
    fc.assert(
      fc.property(name, fc.array(name, { maxLength: 8 }), (n, candidates) => {
        const guess = closest(n, candidates);
        const allowed = Math.max(1, Math.min(3, Math.floor(n.length / 3)));
        if (guess === undefined) {
          for (const c of candidates) {
            assert.ok(editDistance(n.toLowerCase(), c.toLowerCase()) > allowed);
          }
        } else {
          const d = editDistance(n.toLowerCase(), guess.toLowerCase());
          assert.ok(d <= allowed);
          for (const c of candidates) {
            assert.ok(editDistance(n.toLowerCase(), c.toLowerCase()) >= d);
          }
        }
      }),
      { numRuns: 2_000 },
    );
    const long = `CQI_${"X".repeat(100_000)}`;
    assert.equal(closest(long, ["CQI_DATABASE_HOST"]), undefined);
  });
});
