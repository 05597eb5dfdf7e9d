// Per-request cost of tracing middleware, in process (no network): each
// variant's handler is called in a loop with a fresh Request and its body
// read; every request is timed. Variants alternate in rounds (A B C A B C…)
// so drift hits them alike; round 0 warms up and is dropped. Spans go to an
// exporter that discards them after the batch processor, so `always` counts
// recording and batching but no I/O.
//
//   deno run -A bench/tracing.ts [requests-per-round] [rounds]
//   bun run bench/tracing.ts [requests-per-round] [rounds]
//
// Prints a Markdown table and one JSON line per variant.
import { Hono } from "hono";
import { httpInstrumentationMiddleware } from "@hono/otel";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  type Sampler,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { applyMiddleware, type Handler, router } from "@cqi/http";
import { toHono } from "@cqi/http/hono";
import {
  createTracing,
  httpTracing,
  type SpanExporterLike,
  type Tracing,
} from "@cqi/tracing";

const runtime = "Bun" in globalThis ? "bun" : "deno";
const args = "Bun" in globalThis
  ? (globalThis as unknown as { process: { argv: string[] } }).process.argv
    .slice(2)
  : Deno.args;
const REQUESTS = Number(args[0] ?? 20_000);
const ROUNDS = Number(args[1] ?? 7);
const URL_ = "http://127.0.0.1/orders/7";

const discard: SpanExporterLike = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};

interface Variant {
  name: string;
  baseline: string;
  handler: Handler;
  setUp?: () => Tracing;
}

const routes = {
  "GET /orders/:id": (_req: Request, { id }: Record<string, string>) =>
    Response.json({ id }),
};
const cqiApp = router(routes);

function honoApp(...middleware: Parameters<Hono["use"]>[1][]): Handler {
  const app = new Hono();
  for (const m of middleware) app.use(m);
  app.get("/orders/:id", (c) => c.json({ id: c.req.param("id") }));
  return (req) => app.fetch(req);
}

function provider(sampler: Sampler) {
  return new BasicTracerProvider({
    sampler,
    spanProcessors: [new BatchSpanProcessor(discard as SpanExporter)],
  });
}

const cqiTracing = (sampler: "always" | "never") => () =>
  createTracing({ service: { name: "bench" }, exporter: discard, sampler });

const variants: Variant[] = [
  { name: "cqi bare", baseline: "cqi bare", handler: cqiApp },
  {
    name: "cqi httpTracing, no createTracing",
    baseline: "cqi bare",
    handler: applyMiddleware(cqiApp, httpTracing()),
  },
  {
    name: "cqi httpTracing, never",
    baseline: "cqi bare",
    handler: applyMiddleware(cqiApp, httpTracing()),
    setUp: cqiTracing("never"),
  },
  {
    name: "cqi httpTracing, always",
    baseline: "cqi bare",
    handler: applyMiddleware(cqiApp, httpTracing()),
    setUp: cqiTracing("always"),
  },
  { name: "hono bare", baseline: "hono bare", handler: honoApp() },
  {
    name: "hono + toHono(httpTracing), always",
    baseline: "hono bare",
    handler: honoApp(toHono(httpTracing()) as never),
    setUp: cqiTracing("always"),
  },
  {
    name: "hono + @hono/otel, never",
    baseline: "hono bare",
    handler: honoApp(httpInstrumentationMiddleware({
      tracerProvider: provider(new AlwaysOffSampler()),
    })),
  },
  {
    name: "hono + @hono/otel, always",
    baseline: "hono bare",
    handler: honoApp(httpInstrumentationMiddleware({
      tracerProvider: provider(new AlwaysOnSampler()),
    })),
  },
];

async function measure(variant: Variant, out: Float64Array): Promise<void> {
  const tracing = variant.setUp?.();
  try {
    for (let i = 0; i < out.length; i++) {
      const start = performance.now();
      const res = await variant.handler(new Request(URL_));
      await res.arrayBuffer();
      out[i] = performance.now() - start;
    }
  } finally {
    await tracing?.close();
  }
}

const samples = new Map<string, number[]>();
for (let round = 0; round <= ROUNDS; round++) {
  for (const variant of variants) {
    const times = new Float64Array(REQUESTS);
    await measure(variant, times);
    if (round === 0) continue; // warm-up
    const list = samples.get(variant.name) ?? [];
    for (const t of times) list.push(t);
    samples.set(variant.name, list);
  }
}

function stats(xs: number[]) {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, p50: at(0.5), p99: at(0.99) };
}

const us = (ms: number) => (ms * 1000).toFixed(1);
const signed = (ms: number) => `${ms >= 0 ? "+" : ""}${us(ms)}`;
console.log(
  `## ${runtime}: µs per request, ${ROUNDS} alternating rounds of ${REQUESTS}`,
);
console.log(
  "| variant | mean | p50 | p99 | added mean (vs baseline) | added p50 | added p99 |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
const results = [];
for (const variant of variants) {
  const s = stats(samples.get(variant.name)!);
  const b = stats(samples.get(variant.baseline)!);
  const pct = ((s.mean / b.mean - 1) * 100).toFixed(1);
  console.log(
    `| ${variant.name} | ${us(s.mean)} | ${us(s.p50)} | ${us(s.p99)} | ${
      signed(s.mean - b.mean)
    } (${pct}%) | ${signed(s.p50 - b.p50)} | ${signed(s.p99 - b.p99)} |`,
  );
  results.push({
    runtime,
    variant: variant.name,
    baseline: variant.baseline,
    mean_us: Number(us(s.mean)),
    p50_us: Number(us(s.p50)),
    p99_us: Number(us(s.p99)),
    added_mean_pct: Number(pct),
  });
}
for (const r of results) console.log(JSON.stringify(r));
