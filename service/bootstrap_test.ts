import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadConfig } from "@cqi/config";
import { accessLog, logger as currentLogger, memorySink } from "@cqi/logging";
import { startSpan } from "@cqi/tracing";
import { bootstrap } from "./mod.ts";
import { closedPort } from "../tests/_util.ts";

/**
 * Bootstraps with OTLP to a closed loopback port (a collector that is down:
 * the exporter retries for about 8 s), ends a span, shuts down with a final
 * line, and returns how long the shutdown took and the lines.
 */
async function shutdownWithCollectorDown(shutdownTimeout?: number) {
  const sink = memorySink();
  const app = bootstrap({
    service: { name: "svc" },
    tracing: {
      exporter: "otlp-http",
      endpoint: `127.0.0.1:${await closedPort()}`,
      sampler: "always",
      shutdownTimeout,
    },
  }, { logOutput: sink, setDefaultLogger: false });
  assert.equal(app.tracing.mode, "sdk");
  startSpan("work", () => {});
  const started = performance.now();
  await app.shutdown(() => app.logger.info("svc stopped"));
  return { took: performance.now() - started, records: sink.records };
}

describe("bootstrap", () => {
  it("builds the parts from a loaded config", async () => {
    const config = await loadConfig({
      env: { CQI_SERVICE_NAME: "order-service", CQI_METRICS_ENABLED: "true" },
      file: false,
      envFile: false,
    });
    const sink = memorySink();
    const app = bootstrap(config, { logOutput: sink, defaultMetrics: false });
    assert.equal(app.config, config);
    assert.equal(app.registry?.namespace, "order_service");
    assert.equal(app.tracing.mode, "disabled");
    assert.equal(currentLogger(), app.logger);
    app.health.register("db", () => Promise.reject(new Error("refused")));
    assert.equal((await app.health.check()).status, "unhealthy");
    const text = await app.registry!.metrics();
    assert.match(
      text,
      /order_service_health_check_failures_total\{check="db"\} 1/,
    );
    // The logger fits where @cqi/logging expects a Logger.
    accessLog({ logger: app.logger });
    await app.shutdown();
    assert.equal(sink.records[0].service_name, "order-service");
    assert.equal(sink.records[0].check, "db");
  });

  it("gives database hooks bound to its logger and registry", async () => {
    const config = await loadConfig({
      env: { CQI_SERVICE_NAME: "order-service", CQI_METRICS_ENABLED: "true" },
      file: false,
      envFile: false,
    });
    const sink = memorySink();
    const app = bootstrap(config, {
      logOutput: sink,
      defaultMetrics: false,
      setDefaultLogger: false,
    });
    const { onQuery } = app.databaseHooks("main", { slowQuery: 0 });
    const info = {
      operation: "SELECT",
      text: "select 1",
      system: "postgresql",
    };
    assert.equal(await onQuery(info, () => Promise.resolve(1)), 1);
    assert.match(
      await app.registry!.metrics(),
      /order_service_db_query_duration_seconds_count\{database="main",operation="SELECT",outcome="ok"\} 1/,
    );
    await app.shutdown();
    assert.equal(sink.records[0].message, "slow query");
    assert.equal(sink.records[0].statement, "select 1");
  });

  it("gives cache hooks bound to its logger and registry", async () => {
    const sink = memorySink();
    const app = bootstrap({
      service: { name: "order-service" },
      metrics: { enabled: true },
    }, { logOutput: sink, defaultMetrics: false, setDefaultLogger: false });
    const { onCommand, onEvent } = app.cacheHooks("main");
    const info = {
      operation: "get",
      namespace: "order",
      system: "memory",
      keys: 1,
    };
    assert.equal(await onCommand(info, () => Promise.resolve("v")), "v");
    onEvent({ type: "hit", namespace: "order", tier: "l1" });
    onEvent({
      type: "error",
      namespace: "order",
      operation: "delete",
      error: { kind: "timeout", message: "redis DEL failed: timed out" },
    });
    const text = await app.registry!.metrics();
    assert.match(
      text,
      /order_service_cache_command_duration_seconds_count\{cache="main",operation="get",outcome="ok"\} 1/,
    );
    assert.match(
      text,
      /order_service_cache_requests_total\{cache="main",namespace="order",result="hit",tier="l1"\} 1/,
    );
    await app.shutdown();
    assert.equal(sink.records[0].message, "cache degraded");
    assert.equal(sink.records[0].operation, "delete");
  });

  it("has no registry when metrics are disabled or absent", async () => {
    const config = await loadConfig({
      env: { CQI_SERVICE_NAME: "svc", CQI_METRICS_ENABLED: "false" },
      file: false,
      envFile: false,
    });
    const sink = memorySink();
    await using app = bootstrap(config, { logOutput: sink });
    assert.equal(app.registry, undefined);
    await using bare = bootstrap({ service: { name: "bare" } }, {
      logOutput: sink,
      setDefaultLogger: false,
    });
    assert.equal(bare.registry, undefined);
    assert.equal(currentLogger(), app.logger);
  });

  it("runs hooks last first, every one, and rethrows the first failure", async () => {
    const sink = memorySink();
    const app = bootstrap({ service: { name: "svc" } }, { logOutput: sink });
    const order: string[] = [];
    const first = new Error("first");
    app.onShutdown(() => void order.push("a"));
    app.onShutdown(() => {
      order.push("b");
      throw new Error("second");
    });
    app.onShutdown(async () => {
      order.push("c");
      await Promise.resolve();
      throw first;
    });
    app.onShutdown(() => app.logger.info("closing pool"));
    const shutdown = app.shutdown();
    assert.equal(app.shutdown(), shutdown);
    await assert.rejects(shutdown, (error) => error === first);
    assert.deepEqual(order, ["c", "b", "a"]);
    const messages = sink.records.map((r) => [
      r.message,
      (r.error as { message?: string } | undefined)?.message,
    ]);
    assert.deepEqual(messages, [
      ["closing pool", undefined],
      ["shutdown: hook failed", "first"],
      ["shutdown: hook failed", "second"],
    ]);
    assert.throws(() => app.onShutdown(() => {}), /shutdown has started/);
  });

  it("leaves a hook behind after hookTimeout and runs the rest", async () => {
    const sink = memorySink();
    const app = bootstrap({ service: { name: "svc" } }, {
      logOutput: sink,
      hookTimeout: 50,
      setDefaultLogger: false,
    });
    let later = false;
    app.onShutdown(() => void (later = true));
    app.onShutdown(() => new Promise<void>(() => {})); // a drain that never ends
    const started = performance.now();
    await assert.rejects(app.shutdown(), /timed out after 50 ms/);
    assert.ok(performance.now() - started < 2_000);
    assert.equal(later, true, "the hooks after it still ran");
    assert.deepEqual(sink.records.map((r) => r.message), [
      "shutdown: hook failed",
    ]);
    assert.throws(
      () => bootstrap({ service: { name: "svc" } }, { hookTimeout: 0 }),
      /hookTimeout must be milliseconds > 0, got 0/,
    );
  });

  it("exports the spans ended before the shutdown", async () => {
    const sink = memorySink();
    const app = bootstrap({
      service: { name: "svc", version: "1.2.3", environment: "test" },
      tracing: { exporter: "memory", sampler: "always" },
    }, { logOutput: sink });
    assert.equal(app.tracing.mode, "sdk");
    await startSpan("work", async () => {});
    app.onShutdown(() => startSpan("cleanup", () => {}));
    await app.shutdown();
    assert.deepEqual(app.tracing.spans().map((s) => s.name), [
      "work",
      "cleanup",
    ]);
  });

  it("with the collector down, shutdown ends within tracing.shutdownTimeout and the final line comes last", async () => {
    const { took, records } = await shutdownWithCollectorDown(300);
    // 300 ms, with room for a busy machine; about 8 s without the bound
    assert.ok(took < 2_000, `shutdown took ${Math.round(took)} ms`);
    assert.deepEqual(records.map((r) => [r.level, r.message]), [
      ["error", "trace export failed"],
      ["info", "svc stopped"],
    ]);
    const error = records[0].error as { cause: Array<{ message: string }> };
    assert.match(error.cause[0].message, /close did not finish within 300 ms/);
  });

  it("bounds the tracing shutdown by 2 s when the config says nothing", async () => {
    const { took, records } = await shutdownWithCollectorDown();
    assert.ok(took < 4_500, `shutdown took ${Math.round(took)} ms`);
    const error = records[0].error as { cause: Array<{ message: string }> };
    assert.match(
      error.cause[0].message,
      /close did not finish within 2000 ms/,
    );
    assert.equal(records.at(-1)?.message, "svc stopped");
  });

  it("runs the final callback after tracing and before the logger closes, once", async () => {
    const sink = memorySink();
    const app = bootstrap({ service: { name: "svc" } }, {
      logOutput: sink,
      setDefaultLogger: false,
    });
    const order: string[] = [];
    app.onShutdown(() => void order.push("hook"));
    const closing = app.shutdown(() => {
      order.push("last");
      throw new Error("last failed");
    });
    assert.equal(app.shutdown(() => void order.push("again")), closing);
    await assert.rejects(closing, /last failed/);
    assert.deepEqual(order, ["hook", "last"]);
    assert.deepEqual(sink.records.map((r) => r.message), [
      "shutdown: last failed",
    ]);
  });

  it("writes every line to a file, those of the hooks too", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cqi-bootstrap-"));
    try {
      const path = join(dir, "app.log");
      const config = await loadConfig({
        env: { CQI_SERVICE_NAME: "svc", CQI_LOG_OUTPUT: path },
        file: false,
        envFile: false,
      });
      {
        await using app = bootstrap(config);
        for (let i = 0; i < 1000; i++) app.logger.info("line", { i });
        app.onShutdown(() => app.logger.warn("last"));
      }
      const lines = (await readFile(path, "utf8")).trim().split("\n");
      assert.equal(lines.length, 1001);
      assert.equal(JSON.parse(lines[1000]).message, "last");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects a bad config, hook or tracing setup", async () => {
    assert.throws(
      () => bootstrap({ service: { name: " " } }),
      /config.service.name must be a non-empty string/,
    );
    const sink = memorySink();
    await using app = bootstrap({ service: { name: "svc" } }, {
      logOutput: sink,
    });
    assert.throws(
      () => app.onShutdown("x" as unknown as () => void),
      TypeError,
    );
    assert.throws(
      () =>
        bootstrap({
          service: { name: "svc" },
          tracing: { sampleRate: 2 },
        }, { logOutput: sink }),
      RangeError,
    );
  });
});
