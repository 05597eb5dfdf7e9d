import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { router, serve } from "@cqi/http";
import { createRegistry, metricsHandler, serveMetrics } from "./mod.ts";
import { negotiate } from "./exposition.ts";
import { value } from "./testdata/exposition.ts";

const TEXT = "text/plain; version=0.0.4; charset=utf-8";
const OPEN = "application/openmetrics-text; version=1.0.0; charset=utf-8";
// What Prometheus 2.x sends when it scrapes.
const PROMETHEUS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

function shop() {
  const registry = createRegistry({ namespace: "shop", defaultMetrics: false });
  registry.counter({ name: "placed_total", help: "Placed." }).inc(3);
  return registry;
}

describe("format negotiation", () => {
  for (
    const [accept, format] of [
      [null, "prometheus"],
      ["", "prometheus"],
      ["*/*", "prometheus"],
      ["text/plain", "prometheus"],
      [PROMETHEUS_ACCEPT, "openmetrics"],
      ["application/openmetrics-text", "openmetrics"],
      ["Application/OpenMetrics-Text; version=1.0.0", "openmetrics"],
      ["text/plain;q=0.9, application/openmetrics-text;q=0.5", "prometheus"],
      ["application/openmetrics-text;q=0", "prometheus"],
      ["application/openmetrics-text;q=abc", "prometheus"],
      ["application/openmetrics-text;q=0.5, text/plain;q=0.5", "openmetrics"],
    ] as const
  ) {
    it(`answers ${format} to ${JSON.stringify(accept)}`, () => {
      assert.equal(negotiate(accept), format);
    });
  }
});

describe("metricsHandler", () => {
  it("serves the text format by default, on a real server", async () => {
    const app = router({
      "GET /metrics": metricsHandler({ registry: shop() }),
    });
    await using server = serve(app, {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
    });
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), TEXT);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const text = await res.text();
    assert.equal(value(text, "shop_placed_total"), 3);
    assert.doesNotMatch(text, /# EOF/);
  });

  it("serves OpenMetrics when Accept asks for it, as Prometheus does", async () => {
    const res = await metricsHandler({ registry: shop() })(
      new Request("http://localhost/metrics", {
        headers: { accept: PROMETHEUS_ACCEPT },
      }),
    );
    assert.equal(res.headers.get("content-type"), OPEN);
    const text = await res.text();
    assert.match(text, /^# TYPE shop_placed counter$/m);
    assert.match(text, /^shop_placed_total 3$/m);
    assert.match(text, /# EOF\n$/);
  });

  it("answers HEAD without a body", async () => {
    const res = await metricsHandler({ registry: shop() })(
      new Request("http://localhost/metrics", { method: "HEAD" }),
    );
    assert.equal(res.status, 200);
    assert.equal(res.body, null);
  });

  it("answers 500 and reports a failed collection", async () => {
    const registry = createRegistry({
      namespace: "shop",
      defaultMetrics: false,
    });
    const cause = new Error("pool closed");
    registry.gauge({
      name: "pool_size",
      help: "P.",
      collect: () => {
        throw cause;
      },
    });
    const seen: unknown[] = [];
    const res = await metricsHandler({
      registry,
      onError: (e) => seen.push(e),
    })(
      new Request("http://localhost/metrics"),
    );
    assert.equal(res.status, 500);
    assert.equal(await res.text(), "Internal Server Error");
    assert.deepEqual(seen, [cause]);
    const throwing = await metricsHandler({
      registry,
      onError: () => {
        throw new Error("reporter down");
      },
    })(new Request("http://localhost/metrics"));
    assert.equal(throwing.status, 500);
    await throwing.body?.cancel();
  });

  it("reports to console.error by default", async () => {
    const registry = createRegistry({
      namespace: "shop",
      defaultMetrics: false,
    });
    registry.gauge({
      name: "pool_size",
      help: "P.",
      collect: () => Promise.reject(new Error("pool closed")),
    });
    const original = console.error;
    const logged: unknown[][] = [];
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      const res = await metricsHandler({ registry })(
        new Request("http://localhost/"),
      );
      assert.equal(res.status, 500);
      await res.body?.cancel();
    } finally {
      console.error = original;
    }
    assert.equal(logged.length, 1);
    assert.match(String(logged[0][0]), /collecting metrics failed/);
  });

  it("needs a registry", () => {
    assert.throws(
      () =>
        metricsHandler({
          registry: undefined as unknown as ReturnType<typeof shop>,
        }),
      /metricsHandler: registry is required/,
    );
    assert.throws(
      () => serveMetrics(undefined as unknown as { registry: never }),
      /metricsHandler: registry is required/,
    );
  });
});

describe("serveMetrics", () => {
  it("serves the endpoint on its own port and path", async () => {
    await using server = serveMetrics({
      registry: shop(),
      port: 0,
      hostname: "127.0.0.1",
      path: "/internal/metrics",
      handleSignals: false,
    });
    const base = `http://127.0.0.1:${server.addr.port}`;
    const ok = await fetch(`${base}/internal/metrics`);
    assert.equal(ok.status, 200);
    assert.equal(value(await ok.text(), "shop_placed_total"), 3);
    const head = await fetch(`${base}/internal/metrics`, { method: "HEAD" });
    assert.equal(head.status, 200);
    const missing = await fetch(`${base}/metrics`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const post = await fetch(`${base}/internal/metrics`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();
  });

  it("defaults to /metrics", async () => {
    await using server = serveMetrics({
      registry: shop(),
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
    });
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/metrics`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });

  it("rejects a path without a leading slash", () => {
    assert.throws(
      () => serveMetrics({ registry: shop(), path: "metrics", port: 0 }),
      /path must start with "\/"/,
    );
  });
});
