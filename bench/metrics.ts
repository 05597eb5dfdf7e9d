// Per-request cost of the HTTP metrics middleware, in process (no network):
// each handler is called in a loop and its body read. Compares, on Hono, no
// metrics, @hono/prometheus and CQI's httpMetrics (through toHono); and on
// CQI's router, no metrics and httpMetrics — alone (it opens the request
// scope) and inside a scope an outer middleware opened (as in the canonical
// stack behind accessLog or httpTracing).
//
//   deno run -A bench/metrics.ts            # runs Deno and Bun, prints Markdown
//   ROUNDS=3 ITERATIONS=20000 deno run -A bench/metrics.ts   # smoke run
//
// Variants alternate in rounds (A B C ... A B C ...) so drift hits them
// alike; a variant's cost is its time minus that of its stack's bare
// variant in the same round, and the median over rounds is reported.
import { spawn } from "node:child_process";
import process from "node:process";
import { Hono } from "hono";
import { prometheus } from "@hono/prometheus";
import { Registry } from "prom-client";
import {
  applyMiddleware,
  type Handler,
  type Middleware,
  router,
  withRequestScope,
} from "@cqi/http";
import { toHono } from "@cqi/http/hono";
import { createRegistry, httpMetrics } from "@cqi/metrics";

const ROUNDS = Number(process.env.ROUNDS ?? 9);
const ITERATIONS = Number(process.env.ITERATIONS ?? 100_000);
const runtime = "Bun" in globalThis ? "bun" : "deno";

const body = JSON.stringify({ id: "42", ok: true });
const answer = () =>
  new Response(body, { headers: { "content-type": "application/json" } });

function honoApp(use?: (app: Hono) => void): Handler {
  const app = new Hono();
  use?.(app);
  app.get("/users/:id", () => answer());
  return app.fetch;
}

const cqiRoutes = () => router({ "GET /users/:id": () => answer() });
const scope: Middleware = (req, next) => withRequestScope(() => next(req));
const metrics = () =>
  httpMetrics({
    registry: createRegistry({ namespace: "bench", defaultMetrics: false }),
  });

/** Each variant, and the bare variant its cost is measured against. */
const variants: Record<string, { make: () => Handler; base: string }> = {
  "hono": { make: () => honoApp(), base: "hono" },
  "hono + @hono/prometheus": {
    make: () =>
      honoApp((app) =>
        app.use(prometheus({ registry: new Registry() }).registerMetrics)
      ),
    base: "hono",
  },
  "hono + cqi httpMetrics": {
    make: () => honoApp((app) => app.use(toHono(metrics()))),
    base: "hono",
  },
  "cqi router": { make: cqiRoutes, base: "cqi router" },
  "cqi router + httpMetrics": {
    make: () => applyMiddleware(cqiRoutes(), metrics()),
    base: "cqi router",
  },
  "cqi router + scope": {
    make: () => applyMiddleware(cqiRoutes(), scope),
    base: "cqi router + scope",
  },
  "cqi router + scope + httpMetrics": {
    make: () => applyMiddleware(cqiRoutes(), scope, metrics()),
    base: "cqi router + scope",
  },
};

async function measure(handler: Handler): Promise<number> {
  const request = new Request("http://127.0.0.1/users/42");
  const start = performance.now();
  for (let i = 0; i < ITERATIONS; i++) {
    const res = await handler(request);
    await res.arrayBuffer();
  }
  return ((performance.now() - start) * 1e6) / ITERATIONS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function child(): Promise<void> {
  const handlers = Object.entries(variants).map((
    [name, v],
  ) => [name, v.make()] as const);
  const times: Record<string, number[]> = {};
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [name, handler] of handlers) {
      const ns = await measure(handler);
      if (round > 0) (times[name] ??= []).push(ns); // round 0 warms up
    }
  }
  for (const [name, v] of Object.entries(variants)) {
    const costs = times[name].map((ns, i) => ns - times[v.base][i]);
    console.log(JSON.stringify({
      runtime,
      variant: name,
      ns: Math.round(median(times[name])),
      cost: Math.round(median(costs)),
    }));
  }
}

function run(rt: "deno" | "bun"): Promise<string> {
  const bin = new URL(`../node_modules/.bin/${rt}`, import.meta.url).pathname;
  const script = new URL(import.meta.url).pathname;
  const args = rt === "deno"
    ? ["run", "-A", script, "--child"]
    : ["run", script, "--child"];
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    proc.stdout.on("data", (chunk) => out += chunk);
    proc.on("error", reject);
    proc.on(
      "exit",
      (code) =>
        code === 0 ? resolve(out) : reject(new Error(`${rt} exited ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const rows: Array<
    { runtime: string; variant: string; ns: number; cost: number }
  > = [];
  for (const rt of ["deno", "bun"] as const) {
    for (const line of (await run(rt)).trim().split("\n")) {
      rows.push(JSON.parse(line));
    }
  }
  console.log(
    `## HTTP metrics middleware, in process: median of ${ROUNDS} alternating rounds of ${ITERATIONS} requests\n`,
  );
  console.log(
    "| runtime | variant | ns/request | cost vs its bare stack (ns) | cost ÷ @hono/prometheus cost |",
  );
  console.log("| --- | --- | ---: | ---: | ---: |");
  for (const row of rows) {
    const prom = rows.find((r) =>
      r.runtime === row.runtime && r.variant === "hono + @hono/prometheus"
    )!.cost;
    const bare = variants[row.variant].base === row.variant;
    const ratio = bare ? "—" : `${(row.cost / prom).toFixed(2)}`;
    console.log(
      `| ${row.runtime} | ${row.variant} | ${row.ns} | ${
        bare ? "—" : row.cost
      } | ${ratio} |`,
    );
  }
  target(rows);
}

function target(
  rows: Array<{ runtime: string; variant: string; cost: number }>,
) {
  console.log(
    "\nTarget: the CQI middleware costs less than half of @hono/prometheus.",
  );
  for (const rt of ["deno", "bun"]) {
    const cost = (v: string) =>
      rows.find((r) => r.runtime === rt && r.variant === v)!.cost;
    const prom = cost("hono + @hono/prometheus");
    const verdict = (v: string) => {
      const ratio = cost(v) / prom;
      return `${ratio.toFixed(2)} ${ratio < 0.5 ? "met" : "missed"}`;
    };
    console.log(
      `- ${rt}: in the canonical stack (scope already open) ${
        verdict("cqi router + scope + httpMetrics")
      }; alone ${verdict("cqi router + httpMetrics")}; on Hono via toHono ${
        verdict("hono + cqi httpMetrics")
      }`,
    );
  }
}

if (process.argv.includes("--child")) await child();
else await main();
