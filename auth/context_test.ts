import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isUnauthorized } from "@cqi/errors";
import {
  type AuthContext,
  findAuthContext,
  getAuthContext,
  withAuthContext,
} from "./mod.ts";
import { withRequestScope } from "@cqi/http";
import { bindAuth, isPublic, PUBLIC } from "./context.ts";

const caller: AuthContext = {
  authType: "jwt",
  userId: "u-1",
  scopes: [],
  claims: { sub: "u-1" },
};

describe("auth context", () => {
  it("throws unauthorized without a caller; find returns undefined", () => {
    assert.throws(getAuthContext, (e) => isUnauthorized(e));
    assert.equal(findAuthContext(), undefined);
  });

  it("follows awaits inside withAuthContext and ends with it", async () => {
    const seen = await withAuthContext(caller, async () => {
      await new Promise((r) => setTimeout(r, 0));
      return getAuthContext();
    });
    assert.equal(seen, caller);
    assert.equal(findAuthContext(), undefined);
  });

  it("treats a public (excluded) request as unauthenticated", () => {
    withRequestScope(() => {
      bindAuth(PUBLIC);
      assert.ok(isPublic());
      assert.equal(findAuthContext(), undefined);
      assert.throws(getAuthContext, (e) => isUnauthorized(e));
    });
    assert.ok(!isPublic());
  });
});
