import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { cors } from "hono/cors";
import {
  getRoute,
  type Middleware,
  serve,
  withHeaders,
  withRequestScope,
} from "./mod.ts";
import { toHono } from "./hono.ts";

const catchAll: Middleware = async (req, next) => {
  try {
    return await next(req);
  } catch (error) {
    return Response.json({ caught: (error as Error).message }, { status: 500 });
  }
};

describe("toHono", () => {
  it("passes a replaced request to the Hono handlers", async () => {
    const app = new Hono();
    app.use(toHono((req, next) => {
      const headers = new Headers(req.headers);
      headers.set("x-user", "ada");
      return next(new Request(req, { headers }));
    }));
    app.get("/", (c) => c.text(c.req.header("x-user") ?? "none"));
    assert.equal(await (await app.request("/")).text(), "ada");
  });

  it("returns a replaced response as is, without the old headers merged in", async () => {
    const app = new Hono();
    app.use(toHono(async (req, next) => {
      const inner = await next(req);
      return new Response(`replaced ${await inner.text()}`, { status: 202 });
    }));
    app.get("/", (c) => {
      c.header("x-inner", "1");
      return c.text("body");
    });
    const res = await app.request("/");
    assert.equal(res.status, 202);
    assert.equal(res.headers.get("x-inner"), null);
    assert.equal(await res.text(), "replaced body");
  });

  it("keeps the Hono response when the middleware returns it", async () => {
    const app = new Hono();
    app.use(toHono(async (req, next) => {
      const res = await next(req);
      res.headers.set("x-outer", "1");
      return res;
    }));
    app.get("/", (c) => {
      c.header("x-inner", "1");
      return c.text("body");
    });
    const res = await app.request("/");
    assert.equal(res.headers.get("x-inner"), "1");
    assert.equal(res.headers.get("x-outer"), "1");
  });

  it("lets a middleware answer without calling next", async () => {
    const app = new Hono();
    let reached = false;
    app.use(toHono(() => new Response("denied", { status: 401 })));
    app.get("/", (c) => {
      reached = true;
      return c.text("secret");
    });
    const res = await app.request("/");
    assert.equal(res.status, 401);
    assert.equal(reached, false);
  });

  it("surfaces a handler's error to the CQI middleware as a rejection", async () => {
    const app = new Hono();
    app.use(toHono(catchAll));
    app.get("/", () => {
      throw new Error("handler broke");
    });
    const res = await app.request("/");
    assert.deepEqual(await res.json(), { caught: "handler broke" });
  });

  it("leaves HTTPException to Hono", async () => {
    const app = new Hono();
    app.use(toHono(catchAll));
    app.get("/", () => {
      throw new HTTPException(418, { message: "teapot" });
    });
    const res = await app.request("/");
    assert.equal(res.status, 418);
  });

  it("with a rethrowing onError: maps errors once, across two layers", async () => {
    const app = new Hono();
    app.onError((error) => {
      throw error;
    });
    app.use(toHono(catchAll));
    app.use(
      toHono((req, next) =>
        req.headers.get("authorization")
          ? next(req)
          : new Response("no", { status: 401 })
      ),
    );
    app.get("/", () => {
      throw new Error("inner broke");
    });
    app.get("/teapot", () => {
      throw new HTTPException(418, { message: "teapot" });
    });
    assert.equal((await app.request("/")).status, 401);
    const auth = { headers: { authorization: "x" } };
    assert.deepEqual(await (await app.request("/", auth)).json(), {
      caught: "inner broke",
    });
    assert.equal((await app.request("/teapot", auth)).status, 418);
  });

  it("keeps headers earlier Hono middleware set when it replaces the response", async () => {
    const app = new Hono();
    app.onError((error) => {
      throw error;
    });
    app.use(cors({ origin: "https://app.example" }));
    app.use(toHono(catchAll));
    app.get("/", () => {
      throw new Error("boom");
    });
    const res = await app.request("/", {
      headers: { origin: "https://app.example" },
    });
    assert.equal(res.status, 500);
    assert.equal(
      res.headers.get("access-control-allow-origin"),
      "https://app.example",
    );
  });

  it("decorates a redirect from a Hono handler", async () => {
    const app = new Hono();
    app.use(
      toHono(async (req, next) =>
        withHeaders(await next(req), { "x-cqi": "1" })
      ),
    );
    app.get("/old", (c) => c.redirect("/new", 301));
    const res = await app.request("/old");
    assert.equal(res.status, 301);
    assert.equal(res.headers.get("location"), "/new");
    assert.equal(res.headers.get("x-cqi"), "1");
  });

  it("records the matched Hono route pattern", async () => {
    let route: string | undefined;
    const app = new Hono();
    app.use(toHono((req, next) =>
      withRequestScope(async () => {
        const res = await next(req);
        route = getRoute();
        return res;
      })
    ));
    app.get("/users/:id", (c) => c.text(c.req.param("id")));
    assert.equal(await (await app.request("/users/42")).text(), "42");
    assert.equal(route, "/users/:id");
  });

  it("runs on a real server", async () => {
    const app = new Hono();
    app.use(toHono(async (req, next) => {
      const res = await next(req);
      res.headers.set("x-cqi", "yes");
      return res;
    }));
    app.get("/ping", (c) => c.text("pong"));
    await using server = serve(app.fetch, {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
    });
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/ping`);
    assert.equal(res.headers.get("x-cqi"), "yes");
    assert.equal(await res.text(), "pong");
  });
});
