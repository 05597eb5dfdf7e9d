import * as v from "valibot";
import { applyMiddleware, type Middleware, router } from "@cqi/http";
import { invalidInput, notFound, readJson, recovery } from "@cqi/errors";
import { accessLog, type Logger, logRecovered } from "@cqi/logging";
import {
  httpMetrics,
  metricsHandler,
  type MetricsRegistry,
  recoveryMetrics,
} from "@cqi/metrics";
import { httpTracing, traceErrors } from "@cqi/tracing";
import type { Health } from "@cqi/health";
import type { Position, PositionStore } from "./store.ts";

const PositionBody = v.object({
  assetId: v.pipe(
    v.string("must be a string"),
    v.nonEmpty("must not be empty"),
  ),
  quantity: v.pipe(v.number("must be a number"), v.finite("must be finite")),
}, "must be a JSON object");

/** Validates a position body, naming every bad field in the error. */
function parsePosition(body: unknown): Position {
  const result = v.safeParse(PositionBody, body);
  if (result.success) return result.output;
  const fields: Record<string, string> = {};
  for (const issue of result.issues) {
    const path = v.getDotPath(issue);
    // valibot reports a missing key with the object's message; say what it is
    const missing = path !== null && issue.type === "object";
    fields[path ?? "(body)"] ??= missing ? "is required" : issue.message;
  }
  const names = Object.keys(fields).join(", ");
  throw invalidInput(`invalid position: ${names}`, { fields });
}

/** Options for {@linkcode createApp}. */
export interface AppOptions {
  store: PositionStore;
  /** Where access-log lines and server errors go. */
  logger: Logger;
  /** Where the HTTP metrics go; `GET /metrics` exposes it. None: no metrics. */
  registry?: MetricsRegistry;
  /** Serves `/health/live`, `/health/ready` and `/health/startup`. */
  health?: Health;
  /** Authenticates `/api/*` (health and metrics stay open). */
  auth?: Middleware;
}

/**
 * The quickstart service's handler, in the canonical order, outermost first:
 * `httpTracing` (every log line carries the trace), `accessLog`,
 * `httpMetrics`, `recovery` (so the log and the metrics see the mapped
 * status), then auth. Client errors (4xx) show in the access log; server
 * errors are also logged with their whole cause chain and recorded on the
 * span.
 */
export function createApp(
  { store, logger, registry, health, auth }: AppOptions,
): (req: Request) => Promise<Response> {
  const api = router({
    ...(registry && { "GET /metrics": metricsHandler({ registry }) }),
    ...health?.routes(),
    "GET /api/positions/:id": async (_req, { id }) => {
      const position = await store.get(id);
      if (position === undefined) throw notFound("position", id);
      return Response.json(position);
    },
    "PUT /api/positions/:id": async (req, { id }) => {
      const position = parsePosition(await readJson(req));
      await store.put(id, position);
      return Response.json(position);
    },
  });
  const logError = logRecovered();
  const countError = registry ? recoveryMetrics({ registry }) : () => {};
  const traceError = traceErrors();
  return applyMiddleware(
    api,
    httpTracing({ returnTraceparent: true }),
    accessLog({ logger }),
    ...(registry ? [httpMetrics({ registry })] : []),
    recovery({
      onError: (recovered) => {
        countError(recovered);
        traceError(recovered);
        if (recovered.status >= 500) logError(recovered);
      },
    }),
    ...(auth === undefined ? [] : [auth]),
  );
}
