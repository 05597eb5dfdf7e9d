// The exposition against the real tools: `promtool check metrics` lints the
// text format, and a real Prometheus server scrapes a CQI server (it asks
// for OpenMetrics) and stores what it scraped. Both binaries come from the
// Debian package `prometheus`; without them these tests skip locally and
// fail under CI=true.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { context, trace, TraceFlags } from "@opentelemetry/api";
import { applyMiddleware, router, serve } from "@cqi/http";
import { notFound, recovery } from "@cqi/errors";
import {
  createRegistry,
  grpcMetrics,
  httpMetrics,
  metricsHandler,
  type MetricsRegistry,
  recoveryMetrics,
} from "./mod.ts";
import { requireBackend } from "../tests/_util.ts";

const hasBinary = (name: string) => () =>
  Promise.resolve(spawnSync(name, ["--version"]).status === 0);

/** A registry with every kind of metric and some traffic recorded. */
async function busyRegistry(): Promise<{
  registry: MetricsRegistry;
  handler: (req: Request) => Promise<Response>;
}> {
  const registry = createRegistry({ namespace: "cqi-test" });
  const placed = registry.counter({
    subsystem: "orders",
    name: "placed_total",
    help: 'Orders placed, by "side"\\venue.\nSecond line.',
    labelNames: ["side"],
  });
  placed.inc({ side: 'b"u\\y\n' });
  registry.gauge({
    name: "queue_depth",
    help: "Jobs waiting.",
    collect: (g) => g.set(3),
  });
  registry.summary({ name: "batch_size_bytes", help: "Batch sizes." }).observe(
    512,
  );
  grpcMetrics({ registry }).record({
    service: "shop.v1.Orders",
    method: "Get",
    code: 0,
    duration: 1.5,
  });
  const app = router({
    "GET /orders/:id": (_req, { id }) => {
      if (id === "0") throw notFound("order", id);
      return Response.json({ id });
    },
    "GET /metrics": metricsHandler({ registry }),
    // Prometheus 2.x always asks for OpenMetrics: this path serves text
    "GET /metrics-text": (req) =>
      metricsHandler({ registry })(new Request(req.url, { headers: {} })),
  });
  const withMetrics = applyMiddleware(
    app,
    httpMetrics({ registry }),
    recovery({ onError: recoveryMetrics({ registry }) }),
  );
  // every request runs in a sampled span, so exemplars are recorded
  const span = trace.wrapSpanContext({
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: TraceFlags.SAMPLED,
  });
  const handler = (req: Request) =>
    context.with(trace.setSpan(context.active(), span), () => withMetrics(req));
  for (const id of ["1", "2", "0"]) {
    await (await handler(new Request(`http://localhost/orders/${id}`))).text();
  }
  await (await handler(new Request("http://localhost/nope"))).text();
  return { registry, handler };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe("promtool check metrics", () => {
  it("accepts the text exposition", async (t) => {
    if (!await requireBackend(t, "promtool", hasBinary("promtool"))) return;
    const { registry } = await busyRegistry();
    const text = await registry.metrics();
    const child = spawn("promtool", ["check", "metrics"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => output += chunk);
    child.stderr.on("data", (chunk) => output += chunk);
    child.stdin.end(text);
    const [code] = await once(child, "exit");
    assert.equal(output, "", output);
    assert.equal(code, 0);
    assert.match(text, /^cqi_test_http_request_count_total\{/m);
  });
});

describe("a real Prometheus server", () => {
  it("scrapes a CQI server in both formats", { timeout: 60_000 }, async (t) => {
    if (!await requireBackend(t, "prometheus", hasBinary("prometheus"))) return;
    const { handler } = await busyRegistry();
    await using app = serve(handler, {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
    });
    const dir = await mkdtemp(join(tmpdir(), "cqi-prometheus-"));
    const port = await freePort();
    const target = `127.0.0.1:${app.addr.port}`;
    await writeFile(
      join(dir, "prometheus.yml"),
      [
        "global:",
        "  scrape_interval: 1s",
        "  scrape_timeout: 1s",
        "scrape_configs:",
        "  - job_name: cqi",
        `    static_configs: [{ targets: ["${target}"] }]`,
        "  - job_name: cqi_text",
        "    metrics_path: /metrics-text",
        `    static_configs: [{ targets: ["${target}"] }]`,
        "",
      ].join("\n"),
    );
    const prometheus = spawn("prometheus", [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      "--enable-feature=exemplar-storage",
      "--log.level=warn",
    ], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    prometheus.stderr.on("data", (chunk) => log += chunk);
    const exited = once(prometheus, "exit");
    try {
      const api = async (path: string) => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/${path}`);
        const body = await res.json();
        assert.equal(body.status, "success", JSON.stringify(body));
        return body.data;
      };
      // poll until both targets were scraped and the series are stored
      const deadline = Date.now() + 30_000;
      const wanted = [
        'up{job="cqi"} == 1',
        'up{job="cqi_text"} == 1',
        'cqi_test_http_request_count_total{job="cqi",path="/orders/:id",status_code="404",error_type="not_found"}',
        'cqi_test_orders_placed_total{job="cqi_text"}',
        'cqi_test_grpc_call_count_total{code="OK"}',
        "process_cpu_seconds_total",
      ];
      let missing = wanted;
      while (missing.length > 0) {
        if (Date.now() > deadline) {
          assert.fail(
            `Prometheus never had ${missing.join(", ")}; its log:\n${log}`,
          );
        }
        const still: string[] = [];
        for (const query of missing) {
          try {
            const data = await api(`query?query=${encodeURIComponent(query)}`);
            if (data.result.length === 0) still.push(query);
          } catch {
            still.push(query); // not listening yet
          }
        }
        missing = still;
        if (missing.length > 0) {
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      const [placed] = (await api(
        `query?query=${
          encodeURIComponent('cqi_test_orders_placed_total{job="cqi"}')
        }`,
      )).result;
      assert.equal(placed.metric.side, 'b"u\\y\n');
      assert.equal(placed.value[1], "1");
      // units only come with OpenMetrics
      const metadata = await api(
        "targets/metadata?metric=cqi_test_http_request_duration_seconds",
      );
      const units = new Map(
        metadata.map((
          m: { target: { job: string }; unit: string },
        ) => [m.target.job, m.unit]),
      );
      assert.equal(units.get("cqi"), "seconds");
      assert.equal(units.get("cqi_text"), "");
      // the exemplars of the OpenMetrics scrape were stored
      const now = Date.now() / 1000;
      const exemplars = await api(
        `query_exemplars?query=${
          encodeURIComponent(
            'cqi_test_http_request_duration_seconds_bucket{job="cqi"}',
          )
        }&start=${now - 600}&end=${now + 60}`,
      );
      const traceIds = exemplars.flatMap((
        e: { exemplars: { labels: { trace_id: string } }[] },
      ) => e.exemplars.map((x) => x.labels.trace_id));
      assert.ok(traceIds.includes("4bf92f3577b34da6a3ce929d0e0e4736"));
    } finally {
      prometheus.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
