import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { requestPath } from "./mod.ts";

describe("requestPath", () => {
  it("returns the path without query or fragment", () => {
    assert.equal(requestPath("http://h:1/a/b?x=/y#z"), "/a/b");
    assert.equal(requestPath("http://h/a#f?x"), "/a");
    assert.equal(requestPath("http://h"), "/");
    assert.equal(requestPath("http://h/"), "/");
    assert.equal(requestPath(new Request("http://h/a/../b/./c").url), "/b/c");
  });

  it("starts after the authority, whatever a raw Host header put there", () => {
    assert.equal(requestPath("http://h?x/health/%7e"), "/health/%7e");
    assert.equal(requestPath("http://h\\files/a/../b"), "/a/../b");
    assert.equal(requestPath("/relative/x?q"), "/relative/x");
  });
});
