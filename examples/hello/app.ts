// The handler of the deno-serve and bun-serve examples: CQI's canonical
// middleware stack around a CQI router, as one fetch-style function that
// `Deno.serve` and `Bun.serve` take as it is.
import { applyMiddleware, router } from "@cqi/http";
import { recovery } from "@cqi/errors";
import { accessLog, type Logger } from "@cqi/logging";
import {
  httpMetrics,
  metricsHandler,
  type MetricsRegistry,
} from "@cqi/metrics";
import { httpTracing } from "@cqi/tracing";
import { apiKey, type ApiKeyRecord, generateApiKey } from "@cqi/auth";

/** What {@linkcode createHandler} needs. */
export interface HandlerOptions {
  /** Where the access log goes. */
  logger: Logger;
  /** Where the HTTP metrics go; `GET /metrics` exposes it. */
  registry: MetricsRegistry;
  /** The API keys `GET /hello/:name` accepts. */
  keys: ApiKeyRecord[];
}

/**
 * `GET /hello/:name` (API key required) and `GET /metrics` (open), behind
 * the canonical stack, outermost first.
 */
export function createHandler(
  { logger, registry, keys }: HandlerOptions,
): (req: Request) => Promise<Response> {
  const app = router({
    "GET /hello/:name": (_req, { name }) => Response.json({ hello: name }),
    "GET /metrics": metricsHandler({ registry }),
  });
  return applyMiddleware(
    app,
    httpTracing(), // a server span per request; log lines carry its ids
    accessLog({ logger }), // one JSON line per request, by route pattern
    httpMetrics({ registry }), // request metrics, labelled by route pattern
    recovery(), // thrown errors become JSON error responses
    apiKey({ keys, exclude: ["/metrics"] }), // 401 without a valid key
  );
}

/**
 * The API key the examples accept: `API_KEY` from the environment, or a
 * fresh one printed on stderr (straight to the terminal: the logger would,
 * rightly, redact it).
 */
export function exampleKeys(env: { API_KEY?: string }): ApiKeyRecord[] {
  let key = env.API_KEY;
  if (!key) {
    key = generateApiKey();
    console.error(`API_KEY is unset; generated one: ${key}`);
  }
  return [{ id: "default", key }];
}

/** The port the examples listen on: `PORT`, default 8080; 0 picks one. */
export function examplePort(env: { PORT?: string }): number {
  const text = env.PORT || "8080";
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) {
    throw new RangeError(`PORT must be a port number 0-65535, got "${text}"`);
  }
  return port;
}
