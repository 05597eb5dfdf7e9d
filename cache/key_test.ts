import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { kindOf } from "@cqi/errors";
import {
  checkKey,
  keyBuilder,
  keyHead,
  MAX_KEY_LENGTH,
  namespaceOf,
} from "./key.ts";

const part = fc.oneof(
  fc.string(),
  fc.constantFrom(":", "%", "%3A", "%25", "a:b", "::", "%:"),
  fc.integer(),
);

describe("keyBuilder", () => {
  const key = keyBuilder("cqpm", 1);

  it("builds {service}:{prefix}:v{version}:{parts}", () => {
    assert.equal(key("asset", "BTC"), "cqpm:asset:v1:BTC");
    assert.equal(key("asset", 7, 8n), "cqpm:asset:v1:7:8");
    assert.equal(keyBuilder("a:b", 3)("p:q", "r"), "a%3Ab:p%3Aq:v3:r");
  });

  it("never maps two different part lists to one key (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.array(part, { maxLength: 4 }),
        fc.string({ minLength: 1 }),
        fc.array(part, { maxLength: 4 }),
        (p1, parts1, p2, parts2) => {
          const same = p1 === p2 && parts1.length === parts2.length &&
            parts1.every((x, i) => String(x) === String(parts2[i]));
          const k1 = key(p1, ...parts1);
          const k2 = key(p2, ...parts2);
          assert.equal(k1 === k2, same);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("gives back the prefix as the namespace (property)", () => {
    const head = keyHead("cqpm");
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.array(part),
        (prefix, parts) => {
          assert.equal(namespaceOf(key(prefix, ...parts), head, 1), prefix);
        },
      ),
    );
    for (
      const raw of [
        "other:thing",
        "cqpm:",
        "cqpm:sess_secret",
        "cqpm:user@example.com:x",
        "cqpm:a:v12",
        "cqpm:a:v2:x",
      ]
    ) assert.equal(namespaceOf(raw, head, 1), "other", raw);
    assert.equal(namespaceOf("cqpm:a:v1", head, 1), "a");
  });

  it("refuses what is not a key, as invalid_input", () => {
    for (
      const bad of [
        () => key(""),
        () => key("p", {} as string),
        () => key("p", "x".repeat(MAX_KEY_LENGTH)),
        () => checkKey(""),
        () => checkKey(undefined),
        () => checkKey(["k"]),
        () => checkKey("a\uD800"),
        () => key("p", "\uDC00"),
      ]
    ) {
      assert.throws(bad, (error) => kindOf(error) === "invalid_input");
    }
    assert.equal(checkKey("k"), "k");
  });
});
