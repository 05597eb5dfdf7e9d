import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { notFound } from "@cqi/errors";
import { grpcCallMetrics } from "@cqi/grpc";
import { createHealth } from "@cqi/health";
import { applyMiddleware, router } from "@cqi/http";
import { createLogger, memorySink } from "@cqi/logging";
import { createRegistry } from "@cqi/metrics";
import {
  breakerHooks,
  busHooks,
  cacheHooks,
  databaseHooks,
  httpClientHooks,
  httpStack,
  retryHooks,
  serverHooks,
} from "@cqi/service";
import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
import {
  dashboardRules,
  labelNames,
  lintAll,
  lintCompose,
  lintDashboard,
  lintDockerfile,
  lintPrometheus,
  metricNames,
  panelsOf,
  pinnedImage,
  readRepoFile,
} from "./lint.ts";

// The quickstart's namespace: its service name.
const NAMESPACE = "quickstart";

/**
 * The exposition of a registry that every standard instrument of a CQI
 * service has reported into once, the way `bootstrap()` wires them: the
 * HTTP stack, server hooks, health, database, cache, bus, gRPC, HTTP
 * client, retry and breaker hooks, and the process metrics.
 */
async function exposition(): Promise<string> {
  const registry = createRegistry({ namespace: NAMESPACE });
  const logger = createLogger({
    service: { name: NAMESPACE },
    output: memorySink(),
  });
  try {
    // HTTP: the canonical stack around routes, a good and a failing request.
    const app = router({
      "PUT /api/positions/:id": async (req, { id }) => {
        await req.text();
        if (id === "missing") throw notFound("position", id);
        return Response.json({ id });
      },
    });
    const handler = applyMiddleware(app, httpStack({ logger, registry }));
    for (const id of ["p1", "missing"]) {
      const res = await handler(
        new Request(`http://localhost/api/positions/${id}`, {
          method: "PUT",
          body: '{"assetId":"BTC"}',
        }),
      );
      await res.body?.cancel();
    }
    const server = serverHooks("http", { logger, registry });
    server.onRefused("invalid_host");
    server.onError(new Error("escaped"));

    const health = createHealth({ registry, logger });
    health.register("database", { check: () => Promise.resolve() });
    health.register("cache", {
      check: () => Promise.reject(new Error("down")),
      critical: false,
    });
    await health.check();
    await health.close();

    const db = databaseHooks("main", { registry, tracing: false });
    db.onPool(() => ({ total: 2, idle: 1, waiting: 0, max: 10 }));
    await db.onQuery(
      { operation: "SELECT", text: "select 1", system: "postgresql" },
      () => Promise.resolve(1),
    );

    const cache = cacheHooks("main", { registry, tracing: false });
    await cache.onCommand(
      { operation: "get", namespace: "positions", system: "redis", keys: 1 },
      () => Promise.resolve(null),
    );
    cache.onEvent({ type: "hit", namespace: "positions", tier: "l1" });
    cache.onEvent({ type: "load", namespace: "positions", duration: 2 });
    cache.onEvent({
      type: "error",
      namespace: "positions",
      operation: "get",
      error: { kind: "temporary", message: "down" },
    });

    const bus = busHooks("main", { registry });
    await bus.middleware[0]({
      topic: "positions",
      partition: 0,
      offset: "1",
      group: "projector",
      attempt: 1,
      lag: 3,
    }, () => Promise.resolve());
    bus.onPublish({
      topic: "positions",
      type: "cqc.quickstart.v1.PositionChanged",
      outcome: "ok",
      duration: 2,
    });
    bus.onDeadLetter({
      topic: "positions",
      group: "projector",
      kind: "permanent",
      outcome: "dropped",
    });

    const transport = createRouterTransport((r) =>
      r.service(EchoService, {
        echo: (req) => ({ text: req.text }),
        async *count() {},
      }), { router: { interceptors: [grpcCallMetrics({ registry })] } });
    await createClient(EchoService, transport).echo({ text: "hi" });

    httpClientHooks({ registry }).onRequest({
      host: "prices:8080",
      method: "GET",
      status: 200,
      attempt: 1,
      duration: 3,
    });
    retryHooks("place_order", { registry }).onRetry({
      attempt: 1,
      error: new Error("busy"),
      delay: 1,
    });
    breakerHooks("prices", { registry }).onStateChange({
      from: "closed",
      to: "open",
    });
    return await registry.metrics();
  } finally {
    await logger.close();
  }
}

/** Series name → the label names it has, from an exposition's samples. */
function seriesOf(text: string): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s/.exec(line);
    if (match === null) continue;
    const labels = series.get(match[1]) ?? new Set<string>();
    for (const [, name] of (match[2] ?? "").matchAll(/(\w+)="/g)) {
      labels.add(name);
    }
    series.set(match[1], labels);
  }
  return series;
}

/** Every PromQL expression of the dashboard: targets and variable queries. */
function expressions(): { where: string; expr: string }[] {
  const dashboard = JSON.parse(
    readRepoFile("deploy/grafana/dashboards/cqi-service.json"),
  );
  const found: { where: string; expr: string }[] = [];
  for (const panel of panelsOf(dashboard)) {
    for (const target of (panel.targets ?? []) as { expr: string }[]) {
      found.push({ where: `panel ${panel.title}`, expr: target.expr });
    }
  }
  for (const variable of dashboard.templating.list) {
    const query = variable.query?.query ?? variable.query;
    const inner = /^label_values\((.*),\s*\w+\)$/.exec(String(query));
    if (inner !== null) {
      found.push({ where: `variable ${variable.name}`, expr: inner[1] });
    }
  }
  return found;
}

describe("deployment files", () => {
  it("compose.yaml, the dashboard, prometheus.yml and the configs have no problems", () => {
    assert.deepEqual(lintAll(), []);
  });

  it("every series the dashboard queries is exported, with the labels it uses", async () => {
    const series = seriesOf(await exposition());
    // Prometheus adds job and instance; every _bucket series has le.
    const added = ["job", "instance", "le"];
    const used = new Set<string>();
    const exprs = expressions();
    assert.ok(exprs.length > 30, `only ${exprs.length} expressions`);
    for (const { where, expr } of exprs) {
      const names = metricNames(expr, { namespace: NAMESPACE });
      assert.ok(names.length > 0, `${where}: no series in ${expr}`);
      const labels = new Set(added);
      for (const name of names) {
        assert.ok(series.has(name), `${where}: ${name} is not exported`);
        for (const label of series.get(name)!) labels.add(label);
        used.add(name);
      }
      for (const label of labelNames(expr)) {
        assert.ok(
          labels.has(label),
          `${where}: no label ${label} on ${names.join(", ")}`,
        );
      }
    }
    // and the other way round: each family of the service's own metrics is
    // on the dashboard.
    const families = new Set(
      [...series.keys()]
        .filter((name) => name.startsWith(`${NAMESPACE}_`))
        .map((name) => name.replace(/_(bucket|sum|count)$/, "")),
    );
    assert.ok(families.size >= 25, [...families].join(" "));
    for (const family of families) {
      assert.ok(
        [...used].some((name) =>
          name.replace(/_(bucket|sum|count)$/, "") === family
        ),
        `${family} is exported but not on the dashboard`,
      );
    }
  });
});

describe("dashboardRules", () => {
  it("gives promtool one rule per target, every variable replaced", () => {
    const text = readRepoFile("deploy/grafana/dashboards/cqi-service.json");
    const rules = dashboardRules(text);
    const targets = panelsOf(JSON.parse(text)).flatMap((p) =>
      (p.targets ?? []) as unknown[]
    );
    assert.equal(rules.match(/- record: /g)?.length, targets.length);
    assert.doesNotMatch(rules, /\$/);
    assert.match(rules, /rate\(quickstart_http_request_count_total\{/);
  });
});

describe("metricNames and labelNames", () => {
  it("keep series names, leave out functions, keywords, labels and ranges", () => {
    const expr =
      'histogram_quantile(0.99, sum by (le, path) (rate(${ns}_x_bucket{job=~"$job", a="b(c)"}[$__rate_interval]))) / on (path) group_left sum without (z) (y_total offset 5m) > 1e3';
    assert.deepEqual(metricNames(expr, { ns: "svc" }), [
      "svc_x_bucket",
      "y_total",
    ]);
    assert.deepEqual(labelNames(expr).sort(), [
      "a",
      "job",
      "le",
      "path",
      "z",
    ]);
    assert.deepEqual(metricNames("up"), ["up"]);
    assert.deepEqual(metricNames("sum(rate(a:b[5m])) and bool c"), [
      "a:b",
      "c",
    ]);
  });
});

describe("lintCompose", () => {
  it("finds schema violations and broken references", () => {
    const problems = lintCompose(
      `
services:
  app:
    build: { context: ., dockerfile: nowhere/Dockerfile }
    depends_on:
      db: { condition: service_healthy }
      ghost: { condition: service_started }
    volumes:
      - ./deploy/absent.yml:/etc/absent.yml
      - undeclared:/data
  db:
    image: postgres:latest
    ports: 5432
  cache:
    image: redis
    colour: blue
`,
      (path) => path === "." || path === "deploy",
    );
    const expected = [
      /compose\.yaml: \/services\/db\/ports: must be array/,
      /services\/cache: must NOT have additional properties \(colour\)/,
      /services\.app\.build\.dockerfile: nowhere\/Dockerfile does not exist/,
      /services\.app\.depends_on: no service ghost/,
      /services\.app\.depends_on\.db: service_healthy, but db has no healthcheck/,
      /services\.app\.volumes: \.\/deploy\/absent\.yml does not exist/,
      /services\.app\.volumes: named volume undeclared not declared/,
      /services\.db: image postgres:latest is not pinned/,
      /services\.cache: image redis is not pinned/,
    ];
    for (const pattern of expected) {
      assert.ok(
        problems.some((p) => pattern.test(p)),
        `${pattern} not in:\n${problems.join("\n")}`,
      );
    }
  });

  it("accepts a small valid file", () => {
    assert.deepEqual(
      lintCompose(
        "services:\n  db:\n    image: postgres:15.8\n    healthcheck:\n      test: [CMD, pg_isready]\n  app:\n    image: ghcr.io/o/app@sha256:" +
          "a".repeat(64) +
          "\n    depends_on:\n      db:\n        condition: service_healthy\n",
        () => true,
      ),
      [],
    );
  });

  it("lintDockerfile wants every FROM pinned, build stages aside", () => {
    assert.deepEqual(
      lintDockerfile(
        "FROM node:20.18.0 AS deps\nFROM deps\nfrom --platform=linux/amd64 denoland/deno AS run\nFROM debian:latest\n",
      ),
      [
        "Dockerfile: FROM denoland/deno is not pinned to a version",
        "Dockerfile: FROM debian:latest is not pinned to a version",
      ],
    );
    assert.deepEqual(
      lintDockerfile(readRepoFile("examples/quickstart/Dockerfile")),
      [],
    );
  });

  it("pinnedImage wants a version tag or a digest", () => {
    for (
      const image of ["postgres:15.8", "localhost:5000/a/b:1.2", "x:v2.55.0"]
    ) {
      assert.equal(pinnedImage(image), true, image);
    }
    for (
      const image of [
        "postgres",
        "postgres:latest",
        "postgres:15",
        "localhost:5000/a",
        "x:${TAG}",
      ]
    ) {
      assert.equal(pinnedImage(image), false, image);
    }
  });
});

describe("lintDashboard and lintPrometheus", () => {
  it("find duplicate ids, panels without datasource or targets, unknown variables", () => {
    const problems = lintDashboard(JSON.stringify({
      uid: "u",
      title: "t",
      templating: { list: [{ name: "job" }] },
      panels: [
        { id: 1, type: "row", gridPos: {}, panels: [] },
        {
          id: 1,
          type: "timeseries",
          title: "a",
          gridPos: {},
          datasource: {},
          targets: [{ refId: "A", expr: 'up{job="$job", x="$nope"}' }],
        },
        { id: 2, type: "timeseries", title: "b", gridPos: {}, targets: [] },
      ],
    }));
    assert.deepEqual(problems, [
      'dashboard: panel "a": id 1 used twice',
      'dashboard: panel "a": unknown variable $nope',
      'dashboard: panel "b": no datasource',
      'dashboard: panel "b": no targets',
    ]);
    assert.match(lintDashboard("{")[0], /not JSON/);
  });

  it("finds scrape targets that are not the compose services", () => {
    const compose = readRepoFile("compose.yaml");
    assert.deepEqual(
      lintPrometheus(
        "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [quickstart:9999, nowhere:80]\n",
        compose,
      ),
      [
        "prometheus.yml: job a: quickstart:9999, but quickstart listens on PORT 8080",
        "prometheus.yml: job a: nowhere:80 is not a compose service",
      ],
    );
  });
});
