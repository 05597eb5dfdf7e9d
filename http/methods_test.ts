import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { HTTP_METHODS } from "./mod.ts";

describe("HTTP_METHODS", () => {
  it("lists the semantic conventions' methods, QUERY included", () => {
    assert.deepEqual(HTTP_METHODS, [
      "GET",
      "HEAD",
      "POST",
      "PUT",
      "DELETE",
      "CONNECT",
      "OPTIONS",
      "TRACE",
      "PATCH",
      "QUERY",
    ]);
  });

  it("cannot be changed by a caller", () => {
    assert.ok(Object.isFrozen(HTTP_METHODS));
  });
});
