/**
 * Runs CQI middleware inside a Hono app.
 *
 * @example Usage
 * ```ts
 * import { Hono } from "hono";
 * import type { Middleware } from "@cqi/http";
 * import { toHono } from "@cqi/http/hono";
 *
 * const poweredBy: Middleware = async (req, next) => {
 *   const res = await next(req);
 *   res.headers.set("x-powered-by", "cqi");
 *   return res;
 * };
 * const app = new Hono();
 * app.use(toHono(poweredBy));
 * app.get("/", (c) => c.text("hi"));
 * const res = await app.request("/");
 * console.log(res.headers.get("x-powered-by")); // "cqi"
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { routePath } from "hono/route";
import { setRoute } from "./request_scope.ts";
import type { Middleware } from "./types.ts";

/**
 * Adapts a CQI {@linkcode Middleware} to Hono's middleware signature, so the
 * same value runs on `Deno.serve`, `Bun.serve` and Hono with the same result:
 *
 * - the request it passes on replaces `c.req.raw` for the rest of the app;
 * - the response it returns replaces `c.res` as it is, with no headers of the
 *   previous response merged in;
 * - an error thrown by a later handler reaches the CQI middleware as a
 *   rejection of `next` (Hono's `HTTPException` keeps its own response), so
 *   `recovery` maps it exactly as it would outside Hono;
 * - the matched Hono route pattern is recorded with `setRoute`.
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
export function toHono(middleware: Middleware): MiddlewareHandler {
  return async (c, honoNext) => {
    const res = await middleware(c.req.raw, async (req) => {
      if (req !== c.req.raw) c.req.raw = req;
      await honoNext();
      setRoute(routePath(c));
      const error = c.error;
      if (error !== undefined && !(error instanceof HTTPException)) {
        c.error = undefined;
        throw error;
      }
      return c.res;
    });
    if (res !== c.res) {
      c.res = undefined; // assign without Hono merging the old headers in
      c.res = res;
    }
  };
}
