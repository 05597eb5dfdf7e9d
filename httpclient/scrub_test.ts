import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { scrubbed, scrubUrls } from "./scrub.ts";

describe("scrubUrls", () => {
  it("cuts every URL's query, fragment and credentials, and nothing else", () => {
    assert.equal(
      scrubUrls(
        'error sending request for url (http://u:p@h:1/x?k=SECRET#f): refused; "https://h/y?z" and ws://a@b/',
      ),
      'error sending request for url (http://h:1/x): refused; "https://h/y" and ws://b/',
    );
  });
});

describe("scrubbed", () => {
  it("keeps the name, the code and the causes' messages; drops the cause", () => {
    const inner = new Error("connect to http://h/x?k=SECRET: refused");
    const outer = Object.assign(
      new TypeError("fetch failed", { cause: inner }),
      { code: "ECONNREFUSED", path: "http://h/x?k=SECRET" },
    );
    const clean = scrubbed(outer);
    assert.equal(clean.name, "TypeError");
    assert.equal(clean.message, "fetch failed: connect to http://h/x: refused");
    assert.equal((clean as Error & { code?: string }).code, "ECONNREFUSED");
    assert.equal(clean.cause, undefined);
    assert.equal("path" in clean, false);
  });
});
