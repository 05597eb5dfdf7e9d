import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { router, serve } from "@cqi/http";
import { temporary } from "@cqi/errors";
import { createRegistry } from "@cqi/metrics";
import { createLogger, memorySink } from "@cqi/logging";
import { createHealth, type Health } from "./mod.ts";

/** Serves the health routes of `health` over loopback. */
function serveHealth(health: Health) {
  const server = serve(router(health.routes()), {
    port: 0,
    hostname: "127.0.0.1",
    handleSignals: false,
  });
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}${path}`);
    return { status: res.status, body: await res.text() };
  };
  return { server, get };
}

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    sleep: () => Promise.resolve(),
    advance: (ms: number) => void (t += ms),
  };
}

const ok = () => Promise.resolve();
const refused = () => Promise.reject(new Error("connection refused"));

describe("live", () => {
  it("answers 200 healthy without running checks", async () => {
    await using health = createHealth();
    let calls = 0;
    health.register("database", () => {
      calls++;
      return Promise.reject(new Error("down"));
    });
    const { server, get } = serveHealth(health);
    await using _ = server;
    assert.deepEqual(await get("/health/live"), {
      status: 200,
      body: '{"status":"healthy"}',
    });
    assert.equal(calls, 0);
  });
});

describe("ready", () => {
  it("answers 200 with every check ok", async () => {
    await using health = createHealth();
    health.register("database", ok);
    health.register("cache", { check: ok });
    const { server, get } = serveHealth(health);
    await using _ = server;
    const res = await get("/health/ready");
    assert.equal(res.status, 200);
    assert.equal(
      res.body,
      '{"status":"healthy","checks":{"database":"ok","cache":"ok"}}',
    );
  });

  it("answers 503 when a critical check fails, with its message", async () => {
    await using health = createHealth({ exposeErrors: true });
    health.register("database", ok);
    health.register("cache", refused);
    const { server, get } = serveHealth(health);
    await using _ = server;
    const res = await get("/health/ready");
    assert.equal(res.status, 503);
    assert.equal(
      res.body,
      '{"status":"unhealthy","checks":{"database":"ok","cache":"error: connection refused"}}',
    );
  });

  it("hides a check's error text by default and logs it instead", async () => {
    const sink = memorySink();
    await using health = createHealth({
      logger: createLogger({ output: sink }),
    });
    health.register("database", ok);
    health.register(
      "cache",
      () => Promise.reject(new Error("auth failed for user admin at 10.0.0.7")),
    );
    const { server, get } = serveHealth(health);
    await using _ = server;
    const res = await get("/health/ready");
    assert.equal(res.status, 503);
    assert.equal(
      res.body,
      '{"status":"unhealthy","checks":{"database":"ok","cache":"error"}}',
    );
    assert.match(JSON.stringify(sink.records), /10\.0\.0\.7/);
  });

  it("keeps 200, degraded, when only a non-critical check fails", async () => {
    await using health = createHealth({ exposeErrors: true });
    health.register("database", { check: ok, critical: true });
    health.register("cache", { check: refused, critical: false });
    const res = await health.ready(new Request("http://x/health/ready"));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      status: "degraded",
      checks: { database: "ok", cache: "error: connection refused" },
    });
  });

  it("shows a CqiError's message, never a stack, and hides it on request", async () => {
    const failing = () =>
      Promise.reject(temporary("replica lagging\nat x.ts:1"));
    const shown = createHealth({ exposeErrors: true });
    shown.register("db", failing);
    assert.deepEqual((await shown.check()).checks, {
      db: "error: replica lagging",
    });
    const hidden = createHealth({ exposeErrors: false });
    hidden.register("db", failing);
    hidden.register("odd", () => Promise.reject({ code: 1 }));
    assert.deepEqual((await hidden.check()).checks, {
      db: "error",
      odd: "error",
    });
    const odd = createHealth({ exposeErrors: true });
    odd.register("object", () => Promise.reject({ code: 1 }));
    odd.register("string", () => Promise.reject("plain text"));
    odd.register("empty", () => Promise.reject(new Error("")));
    odd.register("undefined", () => Promise.reject(undefined));
    // deno-lint-ignore require-await
    odd.register("throws", async () => {
      throw new Error("sync boom");
    });
    const report = await odd.check();
    assert.deepEqual(report.checks, {
      object: "error",
      string: "error: plain text",
      empty: "error",
      undefined: "error: check failed",
      throws: "error: sync boom",
    });
    assert.equal(report.status, "unhealthy");
  });

  it("fails a hung check after the timeout and aborts its signal", async () => {
    await using health = createHealth({ exposeErrors: true, timeout: 50 });
    let seen: AbortSignal | undefined;
    const aborted = new Promise<unknown>((resolve) => {
      health.register("hung", (signal) => {
        seen = signal;
        signal.addEventListener("abort", () => resolve(signal.reason));
        return new Promise<void>(() => {}); // never settles
      });
    });
    health.register("database", ok);
    const { server, get } = serveHealth(health);
    await using _ = server;
    const started = performance.now();
    const res = await get("/health/ready");
    const elapsed = performance.now() - started;
    assert.equal(res.status, 503);
    assert.equal(
      res.body,
      '{"status":"unhealthy","checks":{"hung":"error: timed out","database":"ok"}}',
    );
    assert.ok(elapsed < 2_000, `took ${elapsed} ms`);
    const reason = await aborted;
    assert.ok(seen?.aborted);
    assert.equal((reason as Error).message, "timed out");
  });

  it("bounds a checker by its own timeout, so a silent non-critical one does not hold readiness", async () => {
    // A probe with Kubernetes' default 1 s timeout must get its 200
    // (degraded) while the cache server is silent.
    await using health = createHealth({ exposeErrors: true, timeout: 60_000 });
    health.register("database", ok);
    health.register("cache", {
      check: () => new Promise<void>(() => {}), // a server under SIGSTOP
      critical: false,
      timeout: 50,
    });
    const started = performance.now();
    const report = await health.check();
    const elapsed = performance.now() - started;
    assert.deepEqual(report, {
      status: "degraded",
      checks: { database: "ok", cache: "error: timed out" },
    });
    assert.ok(elapsed < 1_000, `took ${elapsed} ms`);
  });

  it("runs each check once for 1,000 concurrent probes", async () => {
    // a frozen clock: probes after the run finished get the cached result
    await using health = createHealth({ clock: manualClock(0) });
    let database = 0;
    let cache = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    health.register("database", async () => {
      database++;
      await gate;
    });
    health.register("cache", () => {
      cache++;
      return Promise.resolve();
    });
    // hold the one run until 200 probes wait on it in flight (Bun's fetch
    // keeps at most 256 connections per host open, so not all 1,000 can)
    let arrived = 0;
    await using server = serve(
      router({
        "GET /health/ready": (req) => {
          if (++arrived === 200) release();
          return health.ready(req);
        },
      }),
      { port: 0, hostname: "127.0.0.1", handleSignals: false },
    );
    const url = `http://127.0.0.1:${server.addr.port}/health/ready`;
    const statuses = await Promise.all(
      Array.from({ length: 1_000 }, async () => {
        const res = await fetch(url);
        await res.body?.cancel();
        return res.status;
      }),
    );
    assert.equal(arrived, 1_000);
    assert.equal(database, 1);
    assert.equal(cache, 1);
    assert.ok(statuses.every((s) => s === 200));
  });

  it("reuses a finished result for cacheTtl, then runs again", async () => {
    const clock = manualClock();
    await using health = createHealth({ clock });
    let calls = 0;
    health.register("database", () => {
      calls++;
      return calls === 1 ? Promise.resolve() : refused();
    });
    const probe = () => health.ready(new Request("http://x/health/ready"));
    assert.equal((await probe()).status, 200);
    clock.advance(999);
    assert.equal((await probe()).status, 200);
    assert.equal(calls, 1);
    clock.advance(1);
    assert.equal((await probe()).status, 503);
    assert.equal(calls, 2);
  });

  it("cacheTtl 0 shares only a run in flight", async () => {
    await using health = createHealth({ cacheTtl: 0, clock: manualClock(5) });
    let calls = 0;
    health.register("database", () => {
      calls++;
      return Promise.resolve();
    });
    const probe = () => health.ready(new Request("http://x/health/ready"));
    await Promise.all([probe(), probe(), probe()]);
    assert.equal(calls, 1);
    await probe();
    assert.equal(calls, 2);
  });

  it("register and unregister drop the cached result", async () => {
    const clock = manualClock();
    await using health = createHealth({ exposeErrors: true, clock });
    health.register("database", ok);
    const probe = async () =>
      await (await health.ready(new Request("http://x/"))).json();
    assert.deepEqual(await probe(), {
      status: "healthy",
      checks: { database: "ok" },
    });
    health.register("cache", refused);
    assert.deepEqual(await probe(), {
      status: "unhealthy",
      checks: { database: "ok", cache: "error: connection refused" },
    });
    assert.equal(health.unregister("cache"), true);
    assert.equal(health.unregister("cache"), false);
    assert.deepEqual(await probe(), {
      status: "healthy",
      checks: { database: "ok" },
    });
  });
});

describe("startup", () => {
  it("answers 503 until markStarted, then 200", async () => {
    await using health = createHealth();
    const { server, get } = serveHealth(health);
    await using _ = server;
    assert.equal(health.started, false);
    assert.deepEqual(await get("/health/startup"), {
      status: 503,
      body: '{"status":"unhealthy"}',
    });
    health.markStarted();
    assert.equal(health.started, true);
    assert.deepEqual(await get("/health/startup"), {
      status: 200,
      body: '{"status":"healthy"}',
    });
  });
});

describe("shutdown", () => {
  it("turns readiness to 503 at once by default, without running checks", async () => {
    await using health = createHealth();
    let calls = 0;
    health.register("database", () => {
      calls++;
      return Promise.resolve();
    });
    const { server, get } = serveHealth(health);
    await using _ = server;
    assert.equal((await get("/health/ready")).status, 200);
    assert.equal(health.shuttingDown, false);
    health.beginShutdown();
    assert.equal(health.shuttingDown, true);
    assert.deepEqual(await get("/health/ready"), {
      status: 503,
      body: '{"status":"unhealthy","checks":{}}',
    });
    assert.equal(calls, 1);
    assert.equal((await get("/health/live")).status, 200);
  });

  it("answers 503 on readiness from beginShutdown on, without checks", async () => {
    await using health = createHealth();
    let runs = 0;
    health.register("database", () => {
      runs++;
      return Promise.resolve();
    });
    health.beginShutdown();
    health.beginShutdown(); // a second call changes nothing
    const res = await health.ready(new Request("http://x/"));
    assert.equal(res.status, 503);
    assert.equal(runs, 0);
    assert.equal(health.shuttingDown, true);
  });

  it("close aborts running checks and makes readiness 503", async () => {
    const health = createHealth({ exposeErrors: true });
    let entered!: () => void;
    const inside = new Promise<void>((r) => entered = r);
    const aborted = new Promise<void>((resolve) => {
      health.register("hung", (signal) => {
        signal.addEventListener("abort", () => resolve());
        entered();
        return new Promise<void>(() => {});
      });
    });
    const running = health.check();
    await inside;
    await health.close();
    await aborted;
    assert.deepEqual(await running, {
      status: "unhealthy",
      checks: { hung: "error: health registry closed" },
    });
    assert.equal(health.shuttingDown, true);
    const res = await health.ready(new Request("http://x/"));
    assert.equal(res.status, 503);
  });

  it("check(signal) aborts with the caller's signal", async () => {
    await using health = createHealth({ exposeErrors: true });
    health.register("hung", () => new Promise<void>(() => {}));
    const controller = new AbortController();
    controller.abort(new Error("caller gave up"));
    assert.deepEqual(await health.check(controller.signal), {
      status: "unhealthy",
      checks: { hung: "error: caller gave up" },
    });
  });
});

describe("observability", () => {
  it("records durations and failures in a registry and logs failures", async () => {
    const registry = createRegistry({
      namespace: "shop",
      defaultMetrics: false,
    });
    const sink = memorySink();
    const logger = createLogger({ output: sink });
    await using health = createHealth({ registry, logger });
    health.register("database", ok);
    health.register("cache", { check: refused, critical: false });
    await health.check();
    await health.check();
    const text = await registry.metrics();
    assert.match(
      text,
      /^shop_health_check_duration_seconds_count\{check="database"\} 2$/m,
    );
    assert.match(
      text,
      /^shop_health_check_duration_seconds_count\{check="cache"\} 2$/m,
    );
    assert.match(
      text,
      /^shop_health_check_failures_total\{check="cache"\} 2$/m,
    );
    assert.doesNotMatch(text, /failures_total\{check="database"\}/);
    await logger.flush();
    const records = sink.records;
    assert.equal(records.length, 2);
    assert.equal(records[0].level, "warn");
    assert.equal(records[0].message, "health check failed");
    assert.equal(records[0].check, "cache");
    assert.equal(records[0].critical, false);
    assert.match(JSON.stringify(records[0].error), /connection refused/);
    // a second registry over the same metrics registry reuses the collectors
    await using again = createHealth({ registry });
    again.register("database", ok);
    await again.check();
    assert.match(
      await registry.metrics(),
      /^shop_health_check_duration_seconds_count\{check="database"\} 3$/m,
    );
  });
});

describe("options and registration", () => {
  it("rejects bad options naming them", () => {
    assert.throws(() => createHealth({ timeout: 0 }), /timeout/);
    // a timer cannot hold more: it would fire at once, failing every check
    assert.throws(
      () => createHealth({ timeout: 2 ** 31 }),
      /timeout must be milliseconds >= 1 and at most 2147483647, got 2147483648/,
    );
    // under a millisecond every check would time out (0.5 meant seconds?)
    assert.throws(
      () => createHealth({ timeout: 0.5 }),
      /timeout must be milliseconds >= 1 and at most 2147483647, got 0.5/,
    );
    assert.throws(() => createHealth({ cacheTtl: -1 }), /cacheTtl/);
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => createHealth({ clock: 5 as any }),
      /clock must have a now\(\) method/,
    );
    // deno-lint-ignore no-explicit-any
    assert.throws(() => createHealth(null as any), TypeError);
  });

  it("rejects bad and duplicate checkers", () => {
    const health = createHealth();
    assert.throws(() => health.register("", ok), /non-empty/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => health.register("x", {} as any), /check\(signal\)/);
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => health.register("x", { check: ok, critical: "no" as any }),
      /critical/,
    );
    for (const timeout of [0, 0.5, -1, Infinity, NaN, "1s", "100", 2 ** 31]) {
      const type = typeof timeout === "number" ? RangeError : TypeError;
      assert.throws(
        // deno-lint-ignore no-explicit-any
        () => health.register("x", { check: ok, timeout: timeout as any }),
        (error: Error) =>
          error instanceof type &&
          /timeout of checker "x" must be milliseconds from 1 to 2147483647/
            .test(error.message),
      );
    }
    health.register("x", ok);
    assert.throws(() => health.register("x", ok), /already registered/);
  });

  it("an empty registry is healthy", async () => {
    await using health = createHealth();
    assert.deepEqual(await health.check(), { status: "healthy", checks: {} });
  });
});
