import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Fields } from "./logger.ts";
import { capField } from "./cap.ts";

describe("capField", () => {
  it("keeps a value of at most max characters as it is", () => {
    const fields: Fields = {};
    capField(fields, "route", "abcd", 4);
    assert.deepEqual(fields, { route: "abcd" });
  });

  it("cuts a longer one to max characters ending in … and adds its length", () => {
    const fields: Fields = {};
    capField(fields, "user_agent", "abcdef", 4);
    assert.deepEqual(fields, { user_agent: "abc…", user_agent_length: 6 });
  });

  it("never leaves half a surrogate pair", () => {
    const fields: Fields = {};
    capField(fields, "path", "ab😀cd", 4); // the emoji is 2 code units
    assert.equal(fields.path, "ab…");
    assert.equal(fields.path_length, 6);
    assert.doesNotThrow(() => encodeURIComponent(fields.path as string));
  });
});
