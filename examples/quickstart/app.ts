import * as v from "valibot";
import { applyMiddleware, router } from "@cqi/http";
import { invalidInput, notFound, readJson, recovery } from "@cqi/errors";
import { accessLog, type Logger, logRecovered } from "@cqi/logging";
import {
  httpMetrics,
  metricsHandler,
  type MetricsRegistry,
  recoveryMetrics,
} from "@cqi/metrics";
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
  /** Where the HTTP metrics go; `GET /metrics` exposes it. */
  registry: MetricsRegistry;
}

/**
 * The quickstart service's handler: the position API and `GET /metrics`
 * behind the access log, the HTTP metrics and `recovery`. Client errors (4xx) show in the access log; server errors
 * are also logged with their whole cause chain.
 */
export function createApp(
  { store, logger, registry }: AppOptions,
): (req: Request) => Promise<Response> {
  const api = router({
    "GET /metrics": metricsHandler(registry),
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
  const countError = recoveryMetrics({ registry });
  return applyMiddleware(
    api,
    accessLog({ logger }),
    httpMetrics({ registry }),
    recovery({
      onError: (recovered) => {
        countError(recovered);
        if (recovered.status >= 500) logError(recovered);
      },
    }),
  );
}
