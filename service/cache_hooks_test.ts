import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Cache, createCache } from "@cqi/cache";
import { json } from "@cqi/codec";
import { temporary } from "@cqi/errors";
import { createLogger, memorySink } from "@cqi/logging";
import { createRegistry } from "@cqi/metrics";
import { createTracing, startSpan, type Tracing } from "@cqi/tracing";
import { closedPort } from "../tests/_util.ts";
import { FakeClock } from "./testdata/fake_clock.ts";
import { cacheHooks } from "./mod.ts";

describe("cacheHooks", () => {
  const sink = memorySink();
  const logger = createLogger({ service: { name: "cqpm" }, output: sink });
  const Price = json<{ bid: number; ask: number }>();
  let tracing: Tracing;

  before(() => {
    tracing = createTracing({
      service: { name: "cqpm" },
      exporter: "memory",
      sampler: "always",
    });
  });

  after(async () => {
    await tracing.close();
    await logger.close();
  });

  it("counts hits, misses, stale values and loads; times commands", async () => {
    const registry = createRegistry({
      namespace: "cqpm",
      defaultMetrics: false,
    });
    const clock = new FakeClock();
    await using cache = createCache("memory://", {
      service: { name: "cqpm" },
      clock,
      ...cacheHooks("main", { registry, logger, tracing: false }),
    });
    const key = (id: string) => cache.key("price", id);
    await cache.set(key("BTC"), Price, { bid: 4242.5, ask: 4343.5 }, {
      ttl: 5_000,
    });
    assert.deepEqual(await cache.get(key("BTC"), Price), {
      bid: 4242.5,
      ask: 4343.5,
    });
    assert.equal(await cache.find(key("ETH"), Price), undefined);
    const sol = { bid: 1, ask: 2 };
    assert.deepEqual(
      await cache.getOrLoad(key("SOL"), Price, () => sol, {
        ttl: 1_000,
        grace: 60_000,
      }),
      sol,
    );
    await assert.rejects(
      cache.getOrLoad(key("XRP"), Price, () => {
        throw temporary("exchange down");
      }, { ttl: 1_000 }),
      { kind: "temporary" },
    );
    // SOL past its ttl, its loader failing: served stale from grace.
    clock.advance(2_000);
    assert.deepEqual(
      await cache.getOrLoad(key("SOL"), Price, () => {
        throw temporary("exchange down");
      }, { ttl: 1_000, grace: 60_000 }),
      sol,
    );

    const text = await registry.metrics();
    const lines = text.split("\n");
    for (
      const line of [
        'cqpm_cache_requests_total{cache="main",namespace="price",result="hit",tier="l1"} 1',
        'cqpm_cache_requests_total{cache="main",namespace="price",result="miss",tier=""} 4',
        'cqpm_cache_requests_total{cache="main",namespace="price",result="stale",tier=""} 1',
        'cqpm_cache_loads_total{cache="main",namespace="price",outcome="ok"} 1',
        'cqpm_cache_loads_total{cache="main",namespace="price",outcome="temporary"} 2',
        'cqpm_cache_load_duration_seconds_count{cache="main",namespace="price"} 3',
        'cqpm_cache_command_duration_seconds_count{cache="main",operation="get",outcome="ok"} 4',
        'cqpm_cache_command_duration_seconds_count{cache="main",operation="set",outcome="ok"} 2',
      ]
    ) {
      assert.ok(lines.includes(line), `${line}\nnot in\n${text}`);
    }
    assert.ok(!text.includes("cache_errors_total{"), text);
    // Names, labels and help only: a sample's value (a duration) may hold
    // any digits, "4242" among them.
    const described = lines.map((line) =>
      line.startsWith("#") ? line : line.replace(/ \S+$/, "")
    ).join("\n");
    for (const secret of ["BTC", "ETH", "SOL", "XRP", "4242", "exchange"]) {
      assert.ok(!described.includes(secret), secret);
    }
  });

  it("counts backend failures and logs them at most once per operation per 10 s", async () => {
    const registry = createRegistry({
      namespace: "cqpm",
      defaultMetrics: false,
    });
    const clock = new FakeClock();
    sink.clear();
    await using cache = createCache(`redis://127.0.0.1:${await closedPort()}`, {
      service: { name: "cqpm" },
      commandTimeout: 200,
      connectionTimeout: 200,
      ...cacheHooks("session", { registry, logger, clock, tracing: false }),
    });
    const key = cache.key("user", "u-42");
    const load = () =>
      cache.getOrLoad(key, json<string>(), () => "s3cr3t", { ttl: 1_000 });
    // Redis is down: each read loads directly and the store is given up.
    assert.equal(await load(), "s3cr3t");
    assert.equal(await load(), "s3cr3t");
    const degraded = () =>
      sink.records.filter((r) => r.message === "cache degraded");
    assert.deepEqual(degraded().map((r) => r.operation), ["get", "set"]);
    const [line] = degraded();
    assert.equal(line.level, "warn");
    assert.equal(line.cache, "session");
    assert.equal(line.namespace, "user");
    assert.equal(line.error_kind, "temporary");
    assert.equal(typeof line.error_message, "string");
    assert.notEqual(line.error_message, "");
    assert.equal(line.suppressed, undefined);

    clock.advance(10_000);
    assert.equal(await load(), "s3cr3t");
    assert.deepEqual(
      degraded().slice(2).map((r) => [r.operation, r.suppressed]),
      [["get", 1], ["set", 1]],
    );
    const logged = JSON.stringify(sink.records);
    assert.ok(!logged.includes("u-42") && !logged.includes("s3cr3t"), logged);
    assert.ok(!logged.includes("stack") && !logged.includes("cause"), logged);

    const text = await registry.metrics();
    const lines = text.split("\n");
    for (
      const line of [
        'cqpm_cache_errors_total{cache="session",operation="get",kind="temporary"} 3',
        'cqpm_cache_errors_total{cache="session",operation="set",kind="temporary"} 3',
        'cqpm_cache_command_duration_seconds_count{cache="session",operation="get",outcome="temporary"} 3',
        'cqpm_cache_loads_total{cache="session",namespace="user",outcome="ok"} 3',
      ]
    ) {
      assert.ok(lines.includes(line), `${line}\nnot in\n${text}`);
    }
    assert.ok(!text.includes("u-42"));
  });

  it("makes a client span per command, a child of the caller's", async () => {
    let memory: Cache | undefined;
    let redis: Cache | undefined;
    try {
      memory = createCache("memory://", cacheHooks("main"));
      const port = await closedPort();
      redis = createCache(`redis://127.0.0.1:${port}`, {
        commandTimeout: 200,
        connectionTimeout: 200,
        ...cacheHooks("session"),
      });
      const untraced = createCache(
        "memory://",
        cacheHooks("quiet", { tracing: false }),
      );
      tracing.reset();
      await startSpan("handler", async () => {
        await memory!.find(memory!.key("price", "BTC"), json());
        await redis!.set("k", json(), 1, { ttl: 1_000 }).catch(() => {});
        await untraced.find("k", json());
      });
      await untraced.close();
      const [get, set, handler] = tracing.spans();
      assert.equal(tracing.spans().length, 3);
      assert.equal(get.name, "get");
      assert.equal(get.kind, "client");
      assert.equal(get.parentSpanId, handler.spanId);
      assert.deepEqual({ ...get.attributes }, {
        "db.system.name": "memory",
        "db.operation.name": "get",
      });
      assert.equal(set.name, "set");
      assert.equal(set.status.code, "error");
      assert.equal(set.attributes["db.system.name"], "redis");
      assert.equal(set.attributes["server.address"], "127.0.0.1");
      assert.equal(set.attributes["server.port"], port);
      assert.equal(set.attributes["error.type"], "CqiError");
      assert.ok(!JSON.stringify(tracing.spans()).includes("BTC"));
    } finally {
      await memory?.close();
      await redis?.close();
    }
  });

  it("refuses a nameless cache", () => {
    assert.throws(() => cacheHooks(""), TypeError);
  });
});
