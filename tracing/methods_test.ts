import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { HTTP_METHODS } from "@cqi/http";
import { METHODS } from "./methods.ts";

describe("METHODS", () => {
  it("is @cqi/http's one list of methods, QUERY included", () => {
    assert.deepEqual([...METHODS], HTTP_METHODS);
    assert.ok(METHODS.has("QUERY"));
  });
});
