import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  getRoute,
  group,
  type Middleware,
  router,
  withHeaders,
  withRequestScope,
} from "./mod.ts";

const get = (path: string, method = "GET", headers?: HeadersInit) =>
  new Request(`http://localhost${path}`, { method, headers });

/** Adds its name to `x-chain`, innermost first. */
const tag = (name: string): Middleware => async (req, next) => {
  const res = await next(req);
  const chain = res.headers.get("x-chain");
  return withHeaders(res, { "x-chain": chain ? `${chain}, ${name}` : name });
};

const auth: Middleware = (req, next) =>
  req.headers.get("authorization") === "Bearer ok"
    ? next(req)
    : Response.json({ code: "UNAUTHORIZED" }, { status: 401 });

describe("group", () => {
  it("prefixes the keys and keeps the methods", () => {
    const h = () => new Response();
    const routes = group("/api/v1", [], {
      "GET /positions/:id": h,
      "* /any": h,
      "GET /": h,
    });
    assert.deepEqual(Object.keys(routes), [
      "GET /api/v1/positions/:id",
      "* /api/v1/any",
      "GET /api/v1",
    ]);
    assert.equal(
      routes["GET /api/v1/positions/:id"],
      h,
      "no middleware, no wrapper",
    );
    assert.deepEqual(Object.keys(group("", [], { "GET /": h })), ["GET /"]);
  });

  it("types and passes the parameters of the whole pattern", async () => {
    const app = router({
      ...group("/orgs/:org", [], {
        "GET /files/*": (_req, { org, "*": rest }) =>
          Response.json({ org, rest }),
        "GET /users/:id": (_req, params) => {
          const { org, id }: { org: string; id: string } = params;
          // @ts-expect-error a parameter the whole pattern does not declare
          void params.name;
          return Response.json({ org, id });
        },
      }),
    });
    const res = await app(get("/orgs/acme/files/a/b.txt"));
    assert.deepEqual(await res.json(), { org: "acme", rest: "a/b.txt" });
    const user = await app(get("/orgs/acme/users/7"));
    assert.deepEqual(await user.json(), { org: "acme", id: "7" });
  });

  it("runs the middleware around its routes only, first listed outermost", async () => {
    const app = router({
      "GET /open": () => new Response("open"),
      ...group("/api", [tag("outer"), tag("inner")], {
        "GET /x": () => new Response("x"),
      }),
    });
    const res = await app(get("/api/x"));
    assert.equal(await res.text(), "x");
    assert.equal(res.headers.get("x-chain"), "inner, outer");
    assert.equal((await app(get("/open"))).headers.get("x-chain"), null);
  });

  it("nests: the outer group's middleware runs first", async () => {
    const app = router({
      ...group("/api", [tag("api")], {
        ...group("/admin", [tag("admin")], {
          "GET /users/:id": (_req, { id }) => new Response(id),
        }),
        "GET /ping": () => new Response("pong"),
      }),
    });
    const res = await app(get("/api/admin/users/7"));
    assert.equal(await res.text(), "7");
    assert.equal(res.headers.get("x-chain"), "admin, api");
    assert.equal((await app(get("/api/ping"))).headers.get("x-chain"), "api");
  });

  it("guards the paths under its prefix no route takes: 401 first, then 404 or 405", async () => {
    const app = router({
      "GET /health": () => new Response("ok"),
      ...group("/api", [auth], {
        "GET /positions/:id": (_req, { id }) => new Response(id),
        "PUT /positions/:id": (_req, { id }) => new Response(id),
      }),
    });
    const ok = { authorization: "Bearer ok" };
    const status = async (
      path: string,
      method = "GET",
      headers?: HeadersInit,
    ) => (await app(get(path, method, headers))).status;
    // without credentials nothing under /api tells a route from no route
    assert.equal(await status("/api/nope"), 401);
    assert.equal(await status("/api"), 401);
    assert.equal(await status("/api/positions/7", "POST"), 401);
    assert.equal(await status("/api/positions/7"), 401);
    // with them, the router's own answers
    assert.equal(await status("/api/nope", "GET", ok), 404);
    const post = await app(get("/api/positions/7", "POST", ok));
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD, PUT");
    assert.equal(await status("/api/positions/7", "GET", ok), 200);
    // outside the prefix the group has no say
    assert.equal(await status("/nope"), 404);
    assert.equal(await status("/apiary"), 404);
    assert.equal(await status("/health"), 200);
  });

  it("guards with the most specific group: nested prefixes, inner middleware inside", async () => {
    const app = router({
      ...group("/api", [tag("api")], {
        ...group("/admin", [tag("admin")], {
          "GET /users/:id": (_req, { id }) => new Response(id),
        }),
      }),
    });
    const inner = await app(get("/api/admin/nope"));
    assert.equal(inner.status, 404);
    assert.equal(inner.headers.get("x-chain"), "admin, api");
    const outer = await app(get("/api/nope"));
    assert.equal(outer.status, 404);
    assert.equal(outer.headers.get("x-chain"), "api");
    // a group without middleware, or without a prefix, guards nothing
    const plain = router({
      ...group("/open", [], { "GET /x": () => new Response() }),
      ...group("", [auth], { "GET /y": () => new Response() }),
    });
    assert.equal((await plain(get("/open/nope"))).status, 404);
    assert.equal((await plain(get("/nope"))).status, 404);
  });

  it("records the route before the middleware runs, so a 401 has its route", async () => {
    const app = router({
      ...group("/api", [auth], {
        "GET /positions/:id": (_req, { id }) => Response.json({ id }),
      }),
    });
    let seenByAuth: string | undefined;
    const spy: Middleware = (req, next) => {
      seenByAuth = getRoute();
      return next(req);
    };
    const spied = router({
      ...group("/api", [spy, auth], {
        "GET /positions/:id": (_req, { id }) => Response.json({ id }),
      }),
    });
    const [status, route] = await withRequestScope(async () => {
      const res = await app(get("/api/positions/9"));
      return [res.status, getRoute()];
    });
    assert.deepEqual([status, route], [401, "/api/positions/:id"]);
    await withRequestScope(() => spied(get("/api/positions/9")));
    assert.equal(seenByAuth, "/api/positions/:id");
    const ok = await app(
      get("/api/positions/9", "GET", { authorization: "Bearer ok" }),
    );
    assert.deepEqual(await ok.json(), { id: "9" });
  });

  it("composes the middleware once, when the group is built", async () => {
    const list: Middleware[] = [tag("a")];
    const app = router({
      ...group("", list, { "GET /x": () => new Response() }),
    });
    list.push(tag("b")); // too late: the chain is already built
    assert.equal((await app(get("/x"))).headers.get("x-chain"), "a");
  });

  it("passes the request a middleware forwards, and rejects on a handler's throw", async () => {
    const rewrite: Middleware = (req, next) =>
      next(new Request(req, { headers: { "x-user": "ada" } }));
    let caught: unknown;
    const catcher: Middleware = async (req, next) => {
      try {
        return await next(req);
      } catch (error) {
        caught = error;
        return new Response(null, { status: 500 });
      }
    };
    const app = router({
      ...group("", [catcher, rewrite], {
        "GET /who": (req) => new Response(req.headers.get("x-user")),
        "GET /boom": () => {
          throw new Error("boom");
        },
      }),
    });
    assert.equal(await (await app(get("/who"))).text(), "ada");
    assert.equal((await app(get("/boom"))).status, 500);
    assert.equal((caught as Error).message, "boom");
  });

  it("rejects bad prefixes and keys when built", () => {
    const h = () => new Response();
    for (const prefix of ["api", "/api/", "/", "/a/*", "/a b", "/a?x"]) {
      assert.throws(
        () => group(prefix, [], { "GET /x": h }),
        /invalid group prefix/,
      );
    }
    assert.throws(() => group("/a", [], { "GET x": h }), /METHOD \/path/);
    assert.throws(
      () => group("/a", [], { "GET /x": "nope" as unknown as typeof h }),
      /not a function/,
    );
    // the router still checks the joined pattern
    assert.throws(
      () => router({ ...group("/a", [], { "GET /:": h }) }),
      /not a parameter name/,
    );
  });
});
