import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  getRoute,
  type RouteHandler,
  type RouteParams,
  router,
  type Routes,
  serve,
  withRequestScope,
} from "./mod.ts";

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

describe("router parameter types", () => {
  it("types each handler's parameters from its key", async () => {
    const app = router({
      "GET /orgs/:org/users/:id": (_req, params) => {
        const { org, id }: { org: string; id: string } = params;
        // @ts-expect-error a parameter the pattern does not declare
        void params.name;
        return Response.json({ org, id });
      },
      "GET /files/*": (_req, params) => {
        const rest: string = params["*"];
        // @ts-expect-error only "*"
        void params.id;
        return new Response(rest);
      },
      "GET /plain": (_req, params) => {
        const none: Record<never, string> = params;
        // @ts-expect-error no parameters at all
        void params.id;
        return Response.json(none);
      },
    });
    const res = await app(get("/orgs/o/users/u"));
    assert.deepEqual(await res.json(), { org: "o", id: "u" });
    assert.equal(await (await app(get("/files/a/b"))).text(), "a/b");
  });

  it("keeps accepting handlers typed as RouteHandler and spread Routes", () => {
    const loose: RouteHandler = (_req, params) => Response.json(params);
    const table: Routes = { "GET /health/:probe": loose };
    const maybe = false as boolean;
    const app = router({
      ...table,
      ...(maybe && { "GET /metrics": () => new Response() }),
      "GET /users/:id": loose,
      "GET /x/:id": (_req, { id }) => new Response(id),
    });
    assert.equal(typeof app, "function");
    const show: RouteHandler<RouteParams<"GET /u/:id">> = (_req, { id }) =>
      new Response(id);
    router({ "GET /u/:id": show });
  });

  it("rejects a handler that is not a function when built", () => {
    assert.throws(
      () => router({ "GET /x": undefined as unknown as () => Response }),
      /not a function/,
    );
  });
});

describe("router route recording", () => {
  const h = () => new Response();
  const app = router({
    "GET /users/me": h,
    "GET /users/:id": h,
    "PUT /users/:id": h,
    "GET /files/*": h,
  });
  const routeOf = (req: Request) =>
    withRequestScope(async () => {
      const res = await app(req);
      return [res.status, getRoute()];
    });

  it("records the most specific pattern of a path on a 405", async () => {
    assert.deepEqual(await routeOf(get("/users/me", "DELETE")), [
      405,
      "/users/me",
    ]);
    assert.deepEqual(await routeOf(get("/users/7", "POST")), [
      405,
      "/users/:id",
    ]);
    assert.deepEqual(await routeOf(get("/files/a/b", "PUT")), [
      405,
      "/files/*",
    ]);
  });

  it("records nothing on a 404", async () => {
    assert.deepEqual(await routeOf(get("/nope")), [404, undefined]);
  });

  it("records the pattern that answered when a more specific one is another method's", async () => {
    const mixed = router({ "PUT /users/me": h, "GET /users/:id": h });
    const route = await withRequestScope(async () => {
      await mixed(get("/users/me"));
      return getRoute();
    });
    assert.equal(route, "/users/:id");
  });
});
