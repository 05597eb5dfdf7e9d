import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { apiKey, requireScopes } from "./mod.ts";
import { startApp } from "./testdata/fixtures.ts";

const keys = [
  { id: "reader", key: "reader-key", scopes: ["orders:read"] },
  { id: "admin", key: "admin-key", scopes: ["orders:read", "orders:write"] },
];
const as = (key: string) => ({ authorization: `Bearer ${key}` });

describe("requireScopes on a real server", () => {
  it("answers 403 insufficient_scope when a scope is missing", async () => {
    await using app = startApp(
      apiKey({ keys }),
      requireScopes("orders:read", "orders:write", "orders:read"),
    );
    const reply = await app.get("/", as("reader-key"));
    assert.equal(reply.status, 403);
    assert.deepEqual(reply.json, {
      error: "insufficient scope",
      code: "FORBIDDEN",
    });
    assert.equal(
      reply.headers.get("www-authenticate"),
      'Bearer error="insufficient_scope", scope="orders:read orders:write"',
    );
    assert.equal(reply.log.auth_error, "missing scopes: orders:write");
    assert.equal(reply.log.key_id, "reader");
    const admin = await app.get("/", as("admin-key"));
    assert.equal(admin.status, 200);
    assert.equal(admin.json.caller.keyId, "admin");
  });

  it("fails closed without an auth middleware, and passes excluded paths", async () => {
    await using bare = startApp(requireScopes("x"));
    const reply = await bare.get("/");
    assert.equal(reply.status, 401);
    assert.equal(reply.headers.get("www-authenticate"), "Bearer");
    assert.equal(
      reply.log.auth_error,
      "requireScopes: no authenticated caller",
    );
    await using app = startApp(
      apiKey({ keys, exclude: ["/health/*"] }),
      requireScopes("orders:write"),
    );
    assert.equal((await app.get("/health/live")).status, 200);
    assert.equal((await app.get("/api")).status, 401);
  });

  it("validates scopes", () => {
    assert.throws(() => requireScopes(), /expected at least one scope/);
    for (const bad of ["", "a b", 'a"b', "a\\b", 7]) {
      assert.throws(
        () => requireScopes(bad as string),
        /is not a scope token/,
        String(bad),
      );
    }
  });
});
