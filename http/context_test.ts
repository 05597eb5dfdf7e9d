import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { context, createContextKey, ROOT_CONTEXT } from "@opentelemetry/api";
import {
  addLogFields,
  applyMiddleware,
  ContextKey,
  getLogFields,
  getRoute,
  type Middleware,
  RequestSlot,
  setRoute,
  withRequestScope,
} from "./mod.ts";

describe("ContextKey", () => {
  it("binds a value across awaits, timers and promise callbacks", async () => {
    const key = new ContextKey<string>("test.user");
    const seen = await key.with("ada", async () => {
      await Promise.resolve();
      const inTimer = await new Promise<string | undefined>((resolve) =>
        setTimeout(() => resolve(key.get()), 1)
      );
      return [key.get(), inTimer];
    });
    assert.deepEqual(seen, ["ada", "ada"]);
    assert.equal(key.get(), undefined);
  });

  it("keeps concurrent requests apart", async () => {
    const key = new ContextKey<number>("test.n");
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        key.with(n, async () => {
          await new Promise((r) => setTimeout(r, 4 - n));
          return key.get();
        })
      ),
    );
    assert.deepEqual(results, [1, 2, 3]);
  });

  it("distinguishes keys with the same description", () => {
    const a = new ContextKey<string>("same");
    const b = new ContextKey<string>("same");
    a.with("x", () => assert.equal(b.get(), undefined));
  });

  it("is the OpenTelemetry context: values set there are visible", () => {
    const key = new ContextKey<string>("test.otel");
    const otelKey = createContextKey("test.otel.native");
    key.with("cqi", () => {
      const ctx = context.active().setValue(otelKey, "otel");
      context.with(ctx, () => {
        assert.equal(
          key.get(),
          "cqi",
          "a CQI value survives an OTel context.with",
        );
        assert.equal(context.active().getValue(otelKey), "otel");
      });
    });
  });

  it("nests, the inner value shadowing the outer one", () => {
    const key = new ContextKey<string>("test.nest");
    key.with("outer", () => {
      key.with("inner", () => assert.equal(key.get(), "inner"));
      assert.equal(key.get(), "outer");
    });
  });
});

describe("request scope", () => {
  it("carries the route and log fields set deep inside back out", async () => {
    let route: string | undefined;
    let fields: Readonly<Record<string, unknown>> = {};
    const reader: Middleware = (req, next) =>
      withRequestScope(async () => {
        const res = await next(req);
        route = getRoute();
        fields = getLogFields();
        return res;
      });
    const writer: Middleware = async (req, next) => {
      addLogFields({ user_id: "u-1" });
      return await next(req);
    };
    const handler = applyMiddleware(
      async () => {
        await new Promise((r) => setTimeout(r, 1));
        setRoute("/items/:id");
        addLogFields({ user_id: "u-2", tenant: "acme" });
        return new Response("ok");
      },
      reader,
      writer,
    );
    await handler(new Request("http://localhost/items/3"));
    assert.equal(route, "/items/:id");
    assert.deepEqual(fields, { user_id: "u-2", tenant: "acme" });
  });

  it("joins an active scope instead of opening a second one", () => {
    withRequestScope(() => {
      setRoute("/outer");
      withRequestScope(() => assert.equal(getRoute(), "/outer"));
    });
  });

  it("binds what extend adds in the same context as the scope, also when joining", async () => {
    const tenant = createContextKey("tenant");
    const region = createContextKey("region");
    let extended = 0;
    await withRequestScope(async () => {
      setRoute("/outer");
      await withRequestScope(async () => {
        await Promise.resolve();
        assert.equal(context.active().getValue(tenant), "acme");
        assert.equal(getRoute(), "/outer", "the outer scope is joined");
        await withRequestScope(() => {
          assert.equal(context.active().getValue(region), "eu");
          assert.equal(context.active().getValue(tenant), "acme");
          setRoute("/inner");
        }, (ctx) => ctx.setValue(region, "eu"));
      }, (ctx) => {
        extended++;
        return ctx.setValue(tenant, "acme");
      });
      assert.equal(getRoute(), "/inner", "one scope all the way down");
      assert.equal(context.active().getValue(tenant), undefined);
    });
    assert.equal(extended, 1);
  });

  it("keeps the scope when extend returns a context not built on the one it got", async () => {
    const tenant = createContextKey("tenant");
    await withRequestScope(async () => {
      setRoute("/outer");
      await withRequestScope(() => {
        assert.equal(getRoute(), "/outer");
        assert.equal(context.active().getValue(tenant), "acme");
      }, () => ROOT_CONTEXT.setValue(tenant, "acme"));
    });
  });

  it("RequestSlot holds a value for the rest of the request, per request", async () => {
    const slot = new RequestSlot<string>("test.slot");
    const seen = await Promise.all(
      ["a", "b"].map((name) =>
        withRequestScope(async () => {
          assert.equal(slot.get(), undefined);
          assert.equal(slot.set(name), true);
          await new Promise((r) => setTimeout(r, 1));
          return slot.get();
        })
      ),
    );
    assert.deepEqual(seen, ["a", "b"]);
    assert.equal(slot.set("outside"), false);
    assert.equal(slot.get(), undefined);
  });

  it("ignores writes outside a scope", () => {
    setRoute("/nowhere");
    addLogFields({ a: 1 });
    assert.equal(getRoute(), undefined);
    assert.deepEqual(getLogFields(), {});
  });
});
