import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { getRoute, router, serve, withRequestScope } from "./mod.ts";

const get = (path: string, method = "GET") =>
  new Request(`http://localhost${path}`, { method });

describe("router", () => {
  const app = router({
    "GET /users/:id": (_req, { id }) => Response.json({ route: "id", id }),
    "GET /users/me": () => Response.json({ route: "me" }),
    "PUT /users/:id": (_req, { id }) => Response.json({ route: "put", id }),
    "GET /files/*": (_req, params) => Response.json({ rest: params["*"] }),
    "* /any": (req) => Response.json({ method: req.method }),
    "GET /": () => new Response("root"),
  });

  it("matches params and decodes them", async () => {
    const res = await app(get("/users/a%20b"));
    assert.deepEqual(await res.json(), { route: "id", id: "a b" });
  });

  it("prefers literal segments to params, whatever the order", async () => {
    assert.deepEqual(await (await app(get("/users/me"))).json(), {
      route: "me",
    });
  });

  it("dispatches on method", async () => {
    const res = await app(get("/users/7", "PUT"));
    assert.deepEqual(await res.json(), { route: "put", id: "7" });
  });

  it("answers 405 with Allow when only other methods match", async () => {
    const res = await app(get("/users/7", "DELETE"));
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD, PUT");
    assert.equal((await res.json()).code, "METHOD_NOT_ALLOWED");
  });

  it("answers 404 JSON when nothing matches", async () => {
    for (const path of ["/nope", "/users", "/users/7/extra", "/users/"]) {
      const res = await app(get(path));
      assert.equal(res.status, 404, path);
      assert.deepEqual(await res.json(), {
        error: "not found",
        code: "NOT_FOUND",
      });
    }
  });

  it("matches a trailing wildcard, exposing the rest as *", async () => {
    const res = await app(get("/files/a/b/c.txt"));
    assert.deepEqual(await res.json(), { rest: "a/b/c.txt" });
  });

  it("matches any method with *", async () => {
    const res = await app(get("/any", "PATCH"));
    assert.deepEqual(await res.json(), { method: "PATCH" });
  });

  it("serves HEAD from GET and the root path", async () => {
    assert.equal((await app(get("/", "HEAD"))).status, 200);
    assert.equal(await (await app(get("/"))).text(), "root");
  });

  it("records the matched pattern, never the raw path", async () => {
    const route = await withRequestScope(async () => {
      await app(get("/users/42"));
      return getRoute();
    });
    assert.equal(route, "/users/:id");
  });

  it("uses a custom notFound", async () => {
    const custom = router({}, {
      notFound: () => new Response("gone", { status: 410 }),
    });
    assert.equal((await custom(get("/x"))).status, 410);
  });

  it("matches decoded paths against decoded literals", async () => {
    const intl = router({
      "GET /café": () => new Response("café"),
      "GET /users/me": () => new Response("me"),
      "GET /users/:id": (_req, { id }) => new Response(`id ${id}`),
    });
    assert.equal(await (await intl(get("/caf%C3%A9"))).text(), "café");
    assert.equal(await (await intl(get("/users/m%65"))).text(), "me");
    assert.equal(
      await (await intl(get("/users/%E0%A4%A"))).text(),
      "id %E0%A4%A",
    );
  });

  it("serves a table over a real server", async () => {
    await using server = serve(app, {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
    });
    const base = `http://127.0.0.1:${server.addr.port}`;
    assert.deepEqual(await (await fetch(`${base}/users/me`)).json(), {
      route: "me",
    });
    const head = await fetch(`${base}/users/7`, { method: "HEAD" });
    assert.equal(head.status, 200);
    const res = await fetch(`${base}/users/7`, { method: "DELETE" });
    assert.equal(res.status, 405);
    await res.body?.cancel();
  });

  it("rejects tables with ambiguous or malformed routes", () => {
    const h = () => new Response();
    assert.throws(
      () => router({ "GET /u/:id": h, "GET /u/:name": h }),
      /"GET \/u\/:id" and "GET \/u\/:name" match the same requests/,
    );
    assert.throws(() => router({ "GET /u/:": h }), /not a parameter name/);
    assert.throws(() => router({ "GET /u/:a/:a": h }), /appears twice/);
    assert.throws(() => router({ "GET  /double-space": h }), /invalid route/);
    assert.throws(() => router({ "GET /q?x=1": h }), /invalid route/);
    assert.doesNotThrow(() => router({ "GET /u/:id": h, "PUT /u/:id": h }));
  });

  it("rejects malformed route keys with a clear error", () => {
    assert.throws(
      () => router({ "/no-method": () => new Response() }),
      /METHOD \/path/,
    );
    assert.throws(
      () => router({ "get /lower": () => new Response() }),
      /invalid route/,
    );
    assert.throws(
      () => router({ "GET /a/*/b": () => new Response() }),
      /last segment/,
    );
  });
});
