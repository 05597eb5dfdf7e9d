import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { withHeaders } from "./mod.ts";

describe("withHeaders", () => {
  it("sets headers on a mutable response and returns the same object", () => {
    const res = new Response("x", { headers: { "x-a": "1" } });
    const out = withHeaders(res, { "x-a": "2", "x-b": "3" });
    assert.equal(out, res);
    assert.equal(out.headers.get("x-a"), "2");
    assert.equal(out.headers.get("x-b"), "3");
  });

  it("copies a redirect, whose headers are immutable, keeping status and location", () => {
    const res = Response.redirect("http://localhost/next", 307);
    const out = withHeaders(res, { "x-a": "1" });
    assert.equal(out.status, 307);
    assert.equal(out.headers.get("location"), "http://localhost/next");
    assert.equal(out.headers.get("x-a"), "1");
  });

  it("appends set-cookie instead of replacing it", () => {
    const res = new Response(null, { headers: [["set-cookie", "a=1"]] });
    const out = withHeaders(res, [["set-cookie", "b=2"]]);
    assert.deepEqual(out.headers.getSetCookie(), ["a=1", "b=2"]);
  });

  it("returns the response untouched for no headers", () => {
    const res = Response.redirect("http://localhost/");
    assert.equal(withHeaders(res, {}), res);
  });
});
