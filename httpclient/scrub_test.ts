import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { scrubbed, scrubUrls } from "./scrub.ts";

describe("scrubUrls", () => {
  it("cuts every URL's query, fragment and credentials, and nothing else", () => {
    assert.equal(
      scrubUrls(
        'error sending request for url (http://u:p@h:1/x?k=SECRET#f): refused; "https://h/y?z" and ws://a@b/',
      ),
      // a query runs to the next whitespace, whatever closes the URL
      'error sending request for url (http://h:1/x refused; "https://h/y and ws://b/',
    );
  });
});

describe("scrubUrls against hostile text", () => {
  it("cuts a query holding closing marks to the next whitespace", () => {
    assert.equal(
      scrubUrls("(http://h/x?a=(S)]E}C;R,E'T\"%29 next) and http://u:p@h/#f]x"),
      "(http://h/x next) and http://h/",
    );
  });

  it("no secret in a URL's query survives, whatever surrounds it (property)", () => {
    const secretChars = fc.constantFrom(
      ..."()[]{};,'\"<>:!$*+=&|%abcXYZ019-._~".split(""),
      "%29",
      "%5D",
      "%20",
    );
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.webUrl({ withQueryParameters: false, withFragments: false }),
        fc.array(secretChars, { minLength: 1, maxLength: 12 }),
        fc.string({ maxLength: 20 }),
        fc.boolean(),
        (before, url, chars, after, hash) => {
          const secret = `${chars.join("")}SECRET${chars.join("")}`;
          const text = `${before} ${url}${
            hash ? "#" : "?k="
          }${secret} ${after}`;
          return !scrubUrls(text).includes(secret);
        },
      ),
    );
  });

  it("is linear: 100 KB of hostile text scrubs in under 50 ms", () => {
    const texts = [
      `http://${"a.".repeat(50_000)}`,
      `http://h/?${":a".repeat(50_000)}`,
      "a.".repeat(50_000),
      "a-".repeat(50_000),
      "a://".repeat(25_000),
      `http://${"@".repeat(100_000)}`,
      `${"x".repeat(100_000)}://`,
    ];
    for (const text of texts) {
      scrubUrls(text);
      const started = performance.now();
      scrubUrls(text);
      const took = performance.now() - started;
      assert.ok(took < 50, `${text.slice(0, 12)}…: ${took} ms`);
    }
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
    assert.equal(clean.message, "fetch failed: connect to http://h/x refused");
    assert.equal((clean as Error & { code?: string }).code, "ECONNREFUSED");
    assert.equal(clean.cause, undefined);
    assert.equal("path" in clean, false);
  });
});
