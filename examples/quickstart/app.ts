import * as v from "valibot";
import { group, type Handler, json, type Middleware, router } from "@cqi/http";
import { notFound, readJson } from "@cqi/errors";
import { checkId, type PositionStore } from "./store.ts";

const PositionBody = v.object({
  assetId: v.pipe(
    v.string("must be a string"),
    v.nonEmpty("must not be empty"),
    v.maxLength(64, "must be at most 64 characters"),
  ),
  quantity: v.pipe(v.number("must be a number"), v.finite("must be finite")),
});

/** Options for {@linkcode createApp}. */
export interface AppOptions {
  store: PositionStore;
  /** Guards `/api/*`, such as `bootstrap()`'s `auth()`. */
  auth: Middleware;
  /** Routes open to all, such as `bootstrap()`'s health probes and metrics. */
  routes?: Record<string, Handler>;
}

/**
 * The quickstart's routes: `/api/positions/:id` behind `auth`, beside the
 * open `routes`. The canonical stack (tracing, access log, metrics,
 * recovery) goes around it: `bootstrap()`'s `run`, or `httpStack`.
 */
export function createApp({ store, auth, routes }: AppOptions): Handler {
  return router({
    ...routes,
    ...group("/api", [auth], {
      "GET /positions/:id": async (_req, { id }) => {
        checkId(id);
        const position = await store.get(id);
        if (position === undefined) throw notFound("position", id);
        return json(position);
      },
      "PUT /positions/:id": async (req, { id }) => {
        checkId(id); // before anything is written
        const position = await readJson(req, PositionBody);
        await store.put(id, position);
        return json(position);
      },
    }),
  });
}
