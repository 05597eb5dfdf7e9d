/**
 * Runs CQI middleware inside a Hono app.
 *
 * @example Usage
 * ```ts
 * import { Hono } from "hono";
 * import { type Middleware, withHeaders } from "@cqi/http";
 * import { toHono } from "@cqi/http/hono";
 *
 * const poweredBy: Middleware = async (req, next) =>
 *   withHeaders(await next(req), { "x-powered-by": "cqi" });
 * const app = new Hono();
 * app.use(toHono(poweredBy));
 * app.get("/", (c) => c.text("hi"));
 * const res = await app.request("/");
 * console.log(res.headers.get("x-powered-by")); // "cqi"
 * ```
 *
 * @module
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { routePath } from "hono/route";
import { withHeaders } from "./headers.ts";
import { setRoute } from "./request_scope.ts";
import type { Middleware } from "./types.ts";

/**
 * The part of Hono's `Context` that {@linkcode toHono} uses. Any Hono
 * context fits it, so the returned function is a Hono `MiddlewareHandler`.
 *
 * @example Usage
 * ```ts
 * import type { HonoContext } from "@cqi/http/hono";
 *
 * const status = (c: HonoContext) => c.res?.status;
 * ```
 */
export interface HonoContext {
  /** Hono's request wrapper; `raw` is the web-standard request. */
  req: { raw: Request };
  /** The response so far. */
  res: Response;
  /** An error a later handler threw, which Hono caught. */
  error: Error | undefined;
  /** Whether a response is final. */
  finalized: boolean;
  /** Sets a header on the response to come. */
  header(name: string, value: string, options?: { append?: boolean }): void;
}

/**
 * A Hono middleware as {@linkcode toHono} returns it.
 *
 * @example Usage
 * ```ts
 * import type { HonoMiddleware } from "@cqi/http/hono";
 *
 * const passThrough: HonoMiddleware = (_c, next) => next();
 * ```
 */
export type HonoMiddleware = (
  c: HonoContext,
  next: () => Promise<void>,
) => Promise<void>;

/**
 * Adapts a CQI {@linkcode Middleware} to Hono's middleware signature, so the
 * same value runs on `Deno.serve`, `Bun.serve` and Hono with the same result:
 *
 * - the request it passes on replaces `c.req.raw` for the rest of the app;
 * - the response it returns replaces `c.res` as it is: headers that later
 *   handlers set on the response it replaced are not merged in, while headers
 *   that earlier Hono middleware set (CORS, say) are kept;
 * - an error thrown by a later handler reaches the CQI middleware as a
 *   rejection of `next` (Hono's `HTTPException` keeps its own response), so
 *   `recovery` maps it exactly as it would outside Hono — with Hono's default
 *   `onError`, or one that rethrows (which also stops Hono logging it);
 * - the route Hono matched is recorded with `setRoute` (for an unmatched
 *   path, the pattern of the last middleware that ran, such as `/*`).
 *
 * @example Usage
 * ```ts
 * import { Hono } from "hono";
 * import { toHono } from "@cqi/http/hono";
 *
 * const app = new Hono();
 * app.use(toHono(async (req, next) => await next(req)));
 * app.get("/users/:id", (c) => c.json({ id: c.req.param("id") }));
 * const res = await app.request("/users/7");
 * console.log(await res.json()); // { id: "7" }
 * ```
 *
 * @param middleware The CQI middleware.
 * @returns The equivalent Hono middleware.
 */
export function toHono(middleware: Middleware): HonoMiddleware {
  return async (c, honoNext) => {
    // What outer Hono middleware (CORS, say) has set so far belongs on any
    // response this middleware returns. Reading c.res makes Hono create a
    // placeholder response; unless a response was already final, drop it and
    // move its headers back to Hono's prepared headers, or Hono would clone
    // the handler's response later to merge the placeholder's headers in.
    const outer = [...c.res.headers];
    if (!c.finalized) {
      (c as { res: Response | undefined }).res = undefined;
      c.finalized = false;
      for (const [name, value] of outer) {
        c.header(name, value, { append: name === "set-cookie" });
      }
    }
    const res = await middleware(c.req.raw, async (req) => {
      if (req !== c.req.raw) c.req.raw = req;
      try {
        await honoNext();
      } catch (error) {
        // app.onError rethrew: the handler's error arrives here directly.
        c.error = undefined;
        if (error instanceof HTTPException) return error.getResponse();
        throw error;
      } finally {
        setRoute(routePath(c as Context));
      }
      const error = c.error;
      if (error !== undefined && !(error instanceof HTTPException)) {
        c.error = undefined; // handled here; outer layers must not see it again
        throw error;
      }
      return c.res;
    });
    if (res !== c.res) {
      const missing = outer.filter(([name]) => !res.headers.has(name));
      // Clearing first stops Hono from merging the inner response's headers in.
      (c as { res: Response | undefined }).res = undefined;
      c.res = withHeaders(res, missing);
    }
  };
}
