import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compileExclusions, readBearer } from "./credentials.ts";

describe("readBearer", () => {
  it("reads exactly one token68 after the Bearer scheme", () => {
    assert.deepEqual(readBearer("Bearer abc.DEF-_~+/=="), {
      kind: "token",
      token: "abc.DEF-_~+/==",
    });
    assert.deepEqual(readBearer("bearer  x"), { kind: "token", token: "x" });
  });

  it("classifies everything else", () => {
    const kinds: Array<[string | null, string]> = [
      [null, "missing"],
      ["", "missing"],
      ["abc.def.ghi", "other_scheme"],
      ["Basic dTpw", "other_scheme"],
      ["Bearerx abc", "other_scheme"],
      ["Bearer-abc", "other_scheme"],
      ["Bearer", "malformed"],
      ["Bearer a b", "malformed"],
      ["Bearer a,Bearer b", "malformed"],
      ["Bearer a=b", "malformed"],
      ['Bearer "a"', "malformed"],
      ["Bearer\ta", "malformed"],
      ["Bearer ä", "malformed"],
    ];
    for (const [header, kind] of kinds) {
      assert.equal(readBearer(header).kind, kind, String(header));
    }
  });
});

describe("compileExclusions", () => {
  it("matches exact paths and /* prefixes on segment boundaries", () => {
    const excluded = compileExclusions(["/metrics", "/health/*", "/x/y/*"])!;
    for (
      const p of ["/metrics", "/health", "/health/", "/health/live", "/x/y/z"]
    ) {
      assert.ok(excluded(p), p);
    }
    for (
      const p of [
        "/metrics/",
        "/metricsx",
        "/healthz",
        "/Health/live",
        "/x",
        "/health/..%2fapi",
        "/health/%2E%2E/api",
        "/health/a%5cb",
      ]
    ) {
      assert.ok(!excluded(p), p);
    }
    assert.ok(compileExclusions(["/*"])!("/anything"));
  });

  it("is absent for no patterns and validates them", () => {
    assert.equal(compileExclusions(undefined), undefined);
    assert.equal(compileExclusions([]), undefined);
    assert.throws(
      () => compileExclusions("/x" as never),
      /exclude must be an array/,
    );
    assert.throws(
      () => compileExclusions(["x"]),
      /expected paths starting with "\/"/,
    );
    assert.throws(
      () => compileExclusions(["/a*"]),
      /only allowed as a final "\/\*"/,
    );
    assert.throws(() => compileExclusions(["/*/a"]), /only allowed as a final/);
  });
});
