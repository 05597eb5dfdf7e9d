import * as v from "valibot";
import { applyMiddleware, router } from "@cqi/http";
import { invalidInput, notFound, readJson, recovery } from "@cqi/errors";
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
  onError?: (error: unknown) => void;
}

/** The quickstart service's handler: the position API behind `recovery`. */
export function createApp(
  { store, onError }: AppOptions,
): (req: Request) => Promise<Response> {
  const api = router({
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
  return applyMiddleware(
    api,
    recovery({ onError: onError && (({ error }) => onError(error)) }),
  );
}
