import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyMiddleware, compose, type Middleware } from "./mod.ts";

const request = () => new Request("http://localhost/");
const ok = () => Promise.resolve(new Response("ok"));

function tracer(name: string, log: string[]): Middleware {
  return async (req, next) => {
    log.push(`${name} in`);
    const res = await next(req);
    log.push(`${name} out`);
    return res;
  };
}

describe("compose", () => {
  it("runs the first middleware outermost", async () => {
    const log: string[] = [];
    const mw = compose(tracer("a", log), tracer("b", log), tracer("c", log));
    await mw(request(), ok);
    assert.deepEqual(log, ["a in", "b in", "c in", "c out", "b out", "a out"]);
  });

  it("passes a replaced request on and returns a replaced response", async () => {
    const rewrite: Middleware = (req, next) =>
      next(new Request(new URL("/rewritten", req.url), req));
    const replace: Middleware = async (req, next) => {
      const res = await next(req);
      return new Response(`wrapped ${await res.text()}`, { status: 201 });
    };
    const mw = compose(replace, rewrite);
    const res = await mw(
      request(),
      (req) => Promise.resolve(new Response(new URL(req.url).pathname)),
    );
    assert.equal(res.status, 201);
    assert.equal(await res.text(), "wrapped /rewritten");
  });

  it("lets a middleware answer without calling next", async () => {
    let reached = false;
    const mw = compose(() => new Response("short", { status: 429 }), () => {
      reached = true;
      return new Response("inner");
    });
    const res = await mw(request(), ok);
    assert.equal(res.status, 429);
    assert.equal(reached, false);
  });

  it("rejects a second call to next", async () => {
    const twice: Middleware = async (req, next) => {
      await next(req);
      return next(req);
    };
    await assert.rejects(
      () => compose(twice)(request(), ok),
      /next\(\) called more than once/,
    );
  });

  it("is a pass-through with no middleware", async () => {
    const res = await compose()(request(), ok);
    assert.equal(await res.text(), "ok");
  });

  it("nests: a composed middleware is a middleware", async () => {
    const log: string[] = [];
    const inner = compose(tracer("b", log), tracer("c", log));
    await compose(tracer("a", log), inner)(request(), ok);
    assert.deepEqual(log, ["a in", "b in", "c in", "c out", "b out", "a out"]);
  });

  it("flattens a composed middleware composed again: same order, same checks, reusable", async () => {
    const log: string[] = [];
    const inner = compose(tracer("b", log), tracer("c", log));
    const handler = applyMiddleware(ok, tracer("a", log), inner);
    await handler(request());
    await inner(request(), ok); // still a middleware of its own
    assert.deepEqual(log, [
      "a in",
      "b in",
      "c in",
      "c out",
      "b out",
      "a out",
      "b in",
      "c in",
      "c out",
      "b out",
    ]);
    const twice: Middleware = async (req, next) => {
      await next(req);
      return next(req);
    };
    await assert.rejects(
      () => applyMiddleware(ok, compose(tracer("x", []), twice))(request()),
      /next\(\) called more than once by middleware #1/,
    );
  });

  it("turns a synchronous throw into a rejection", async () => {
    const boom: Middleware = () => {
      throw new Error("sync boom");
    };
    const result = compose(boom)(request(), ok);
    assert.ok(result instanceof Promise);
    await assert.rejects(result, /sync boom/);
  });
});

describe("applyMiddleware", () => {
  it("wraps a handler, outermost first", async () => {
    const log: string[] = [];
    const handler = applyMiddleware(
      () => {
        log.push("handler");
        return new Response("done");
      },
      tracer("a", log),
      tracer("b", log),
    );
    const res = await handler(request());
    assert.equal(await res.text(), "done");
    assert.deepEqual(log, ["a in", "b in", "handler", "b out", "a out"]);
  });

  it("turns a handler's synchronous throw into a rejection middleware sees", async () => {
    let seen: unknown;
    const catcher: Middleware = async (req, next) => {
      try {
        return await next(req);
      } catch (error) {
        seen = error;
        return new Response("caught", { status: 500 });
      }
    };
    const handler = applyMiddleware(() => {
      throw new TypeError("bad");
    }, catcher);
    const res = await handler(request());
    assert.equal(res.status, 500);
    assert.ok(seen instanceof TypeError);
  });

  it("returns a promise even for a bare synchronous handler", async () => {
    const handler = applyMiddleware(() => {
      throw new Error("no middleware");
    });
    await assert.rejects(handler(request()), /no middleware/);
  });
});
