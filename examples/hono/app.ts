// The Hono app of the hono example: the same CQI middleware values as on
// `Deno.serve` and `Bun.serve`, composed and adapted with `toHono`, around
// routes declared with Hono.
import { Hono } from "hono";
import { compose } from "@cqi/http";
import { toHono } from "@cqi/http/hono";
import { recovery } from "@cqi/errors";
import { accessLog, type Logger } from "@cqi/logging";
import {
  httpMetrics,
  metricsHandler,
  type MetricsRegistry,
} from "@cqi/metrics";
import { httpTracing } from "@cqi/tracing";
import { apiKey, type ApiKeyRecord } from "@cqi/auth";

/** What {@linkcode createApp} needs. */
export interface AppOptions {
  /** Where the access log goes. */
  logger: Logger;
  /** Where the HTTP metrics go; `GET /metrics` exposes it. */
  registry: MetricsRegistry;
  /** The API keys `GET /hello/:name` accepts. */
  keys: ApiKeyRecord[];
}

/**
 * A Hono app with `GET /hello/:name` (API key required) and `GET /metrics`
 * (open), behind CQI's canonical stack, outermost first.
 */
export function createApp({ logger, registry, keys }: AppOptions): Hono {
  const app = new Hono();
  // Let handler errors reach CQI's recovery (Hono would log and answer 500).
  app.onError((error) => {
    throw error;
  });
  // The canonical stack, outermost first, as one Hono middleware.
  app.use(toHono(compose(
    httpTracing(), // a server span per request; log lines carry its ids
    accessLog({ logger }), // one JSON line per request, by route pattern
    httpMetrics({ registry }), // request metrics, labelled by route pattern
    recovery(), // thrown errors become JSON error responses
    apiKey({ keys, exclude: ["/metrics"] }), // 401 without a valid key
  )));

  // toHono records the matched pattern (/hello/:name) for logs and metrics.
  app.get("/hello/:name", (c) => c.json({ hello: c.req.param("name") }));
  const metrics = metricsHandler({ registry });
  app.get("/metrics", (c) => metrics(c.req.raw));
  return app;
}
