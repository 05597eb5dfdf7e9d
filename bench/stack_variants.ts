// The handlers compared by the full-stack benchmark (issue 9). Each answers
// GET /api/positions/p1 with a small stored JSON object to a request that
// carries `authorization: Bearer <key>`; they differ in what wraps it:
//
// - bare: the handler alone.
// - cqi-never / cqi-always: the example service's stack, `httpStack` of
//   @cqi/service (httpTracing, accessLog to /dev/null, httpMetrics, recovery
//   with its logging, metrics and tracing hooks) around a `router` whose
//   `group("/api", [apiKey])` guards the route, with the tracing sampler
//   `never` or `always` (spans batched, then discarded). The handler answers
//   with Response.json, as bare does; cqi-json answers with json() of
//   @cqi/http instead, which declares the length for the size metric.
// - hono: a Hono app with hono/logger (no-op print), @hono/prometheus and
//   bearerAuth on the same route.
// - hono-otel-never / hono-otel: the same with @hono/otel outermost, sampling
//   no request / every request (spans batched and discarded): the Hono
//   counterparts of cqi-never and cqi-always.
//
// A factory sets up global state (the tracer provider), so one process serves
// one variant.
import { Hono } from "hono";
import { logger as honoLogger } from "hono/logger";
import { bearerAuth } from "hono/bearer-auth";
import { prometheus } from "@hono/prometheus";
import { httpInstrumentationMiddleware } from "@hono/otel";
import { Registry } from "prom-client";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { applyMiddleware, group, json, router } from "@cqi/http";
import { createLogger } from "@cqi/logging";
import { createRegistry } from "@cqi/metrics";
import { createTracing, type SpanExporterLike } from "@cqi/tracing";
import { apiKey } from "@cqi/auth";
import { httpStack } from "@cqi/service";

/** The API key every benchmark request sends as `Bearer`. */
export const KEY = "bench-key-0123456789abcdef0123456789abcdef";
/** The path every benchmark request asks for. */
export const PATH = "/api/positions/p1";

const positions = new Map([["p1", { assetId: "BTC", quantity: 1.5 }]]);
const getPosition = (id: string) => Promise.resolve(positions.get(id));

const discard: SpanExporterLike = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};

type Handler = (req: Request) => Response | Promise<Response>;

function bare(): Handler {
  return async (req) => {
    const id = new URL(req.url).pathname.slice("/api/positions/".length);
    const position = await getPosition(id);
    if (position === undefined) return new Response(null, { status: 404 });
    return Response.json(position);
  };
}

function cqi(
  sampler: "never" | "always",
  respond: (position: unknown) => Response = (p) => Response.json(p),
): () => Handler {
  return () => {
    createTracing({ service: { name: "bench" }, exporter: discard, sampler });
    const logger = createLogger({
      service: { name: "bench" },
      output: "/dev/null",
    });
    const registry = createRegistry({ service: { name: "bench" } });
    const api = router({
      ...group("/api", [apiKey({ keys: [{ id: "bench", key: KEY }] })], {
        "GET /positions/:id": async (_req, { id }) => {
          const position = await getPosition(id);
          if (position === undefined) {
            return new Response(null, { status: 404 });
          }
          return respond(position);
        },
      }),
    });
    return applyMiddleware(api, httpStack({ logger, registry }));
  };
}

function hono(otel?: "never" | "always"): () => Handler {
  return () => {
    const app = new Hono();
    if (otel !== undefined) {
      const tracerProvider = new BasicTracerProvider({
        sampler: otel === "always"
          ? new AlwaysOnSampler()
          : new AlwaysOffSampler(),
        spanProcessors: [new BatchSpanProcessor(discard as SpanExporter)],
      });
      app.use(httpInstrumentationMiddleware({ tracerProvider }));
    }
    app.use(honoLogger(() => {}));
    const { registerMetrics } = prometheus({ registry: new Registry() });
    app.use("*", registerMetrics);
    app.use("/api/*", bearerAuth({ token: KEY }));
    app.get("/api/positions/:id", async (c) => {
      const position = await getPosition(c.req.param("id"));
      if (position === undefined) return c.notFound();
      return c.json(position);
    });
    return (req) => app.fetch(req);
  };
}

/** The benchmark's variants by name, in the order the tables show them. */
export const variants: Record<string, () => Handler> = {
  bare,
  "cqi-never": cqi("never"),
  "cqi-always": cqi("always"),
  // json() of @cqi/http declares the length, so the size metric sees it
  "cqi-json": cqi("never", json),
  hono: hono(),
  "hono-otel-never": hono("never"),
  "hono-otel": hono("always"),
};
