import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
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
    assert.equal(requestPath("http://h\\files/a/../b"), "/b");
    assert.equal(requestPath("/relative/x?q"), "/relative/x");
  });
});

describe("requestPath normalises", () => {
  it("gives exactly what new URL().pathname gives, for any path", () => {
    const char = fc.constantFrom(
      ..."aZ09-_~!$&'()*+,;=:@/.%2eE\\ \"<>`{}|^[]?#\t\né€".split(""),
    );
    fc.assert(
      fc.property(fc.array(char, { maxLength: 24 }), (chars) => {
        const url = `http://127.0.0.1:8080/${chars.join("")}`;
        assert.equal(requestPath(url), new URL(url).pathname, url);
      }),
      { numRuns: 5000 },
    );
    for (const url of ["http://h/a/../b", "http://h/a/%2E%2e/b", "http://h"]) {
      assert.equal(requestPath(url), new URL(url).pathname, url);
    }
  });

  it("reads the path after the authority, whatever a raw Host header put there", () => {
    // Deno builds req.url from the Host header as sent.
    assert.equal(requestPath("http://h?x/health/%7e"), "/health/%7e");
    assert.equal(requestPath("http://h#x/health/./x"), "/health/x");
    assert.equal(requestPath("http://h\\files/health/%7e"), "/health/%7e");
    assert.equal(requestPath("http://u@h/a%20b"), "/a%20b");
    assert.equal(requestPath("http://h//x/../y"), "//y");
    assert.equal(requestPath("/relative/a%2e"), "/relative/a%2e");
  });
});
