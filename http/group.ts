import { compose } from "./compose.ts";
import {
  GUARD,
  type RouteHandler,
  type RouteParams,
  unmatched,
} from "./router.ts";
import type { Middleware, Next } from "./types.ts";

/**
 * Puts routes under a path prefix, each wrapped in middleware, to spread
 * into a {@linkcode router} table. The first middleware listed is the
 * outermost; auth belongs to the routes it guards. `"GET /positions/:id"`
 * under `"/api"` becomes `"GET /api/positions/:id"` (and `"GET /"` becomes
 * `"GET /api"`); each handler's parameters are typed from the whole
 * pattern, prefix included. The middleware is composed once, here; the
 * router records the route pattern before it runs, so a 401 from auth is
 * logged and counted under its route. Under a prefix the middleware also
 * guards the paths no route takes, as Hono's `app.use("/api/*", auth)`
 * does: `GET /api/nope` and `POST /api/positions/7` get their 404 and 405
 * only once auth let them through, so a client without credentials cannot
 * tell which routes exist. A prefix of `""` gives per-route middleware (and
 * guards nothing else); groups nest.
 *
 * @example Usage
 * ```ts
 * import { group, type Middleware, router } from "@cqi/http";
 *
 * const auth: Middleware = (req, next) =>
 *   req.headers.has("authorization")
 *     ? next(req)
 *     : new Response(null, { status: 401 });
 * const app = router({
 *   "GET /health": () => new Response("ok"),
 *   ...group("/api", [auth], {
 *     "GET /positions/:id": (_req, { id }) => Response.json({ id }),
 *   }),
 * });
 * const res = await app(new Request("http://localhost/api/positions/7"));
 * console.log(res.status); // 401
 * ```
 *
 * @example Middleware on one route
 * ```ts
 * import { group, type Middleware, router, withHeaders } from "@cqi/http";
 *
 * const noStore: Middleware = async (req, next) =>
 *   withHeaders(await next(req), { "cache-control": "no-store" });
 * const app = router({
 *   ...group("", [noStore], { "GET /session": () => Response.json({}) }),
 *   "GET /catalog": () => Response.json([]),
 * });
 * ```
 *
 * @param prefix `""`, or a path such as `"/api"` or `"/orgs/:org"` (no
 *   trailing `/`, no `*`).
 * @param middleware The middleware around each route, outermost first.
 * @param routes The routes, keyed `"METHOD /pattern"` relative to `prefix`.
 * @returns The routes keyed by their whole pattern, to spread into a table.
 */
export function group<Prefix extends string, R>(
  prefix: Prefix,
  middleware: readonly Middleware[],
  routes: {
    [K in keyof R]: string extends K ? RouteHandler
      : RouteHandler<RouteParams<`${Prefix}/${K & string}`>>;
  },
): {
  [
    K in keyof R as K extends `${infer Method} ${infer Path}`
      ? `${Method} ${Path extends "/" ? Prefix extends "" ? "/" : Prefix
        : `${Prefix}${Path}`}`
      : K
  ]: string extends K ? RouteHandler
    : RouteHandler<RouteParams<`${Prefix}/${K & string}`>>;
} {
  if (!/^(?:\/[^\s?#*]*[^\s?#*/])?$/.test(prefix)) {
    throw new TypeError(
      `invalid group prefix "${prefix}": expected "" or a path such as "/api", without a trailing "/"`,
    );
  }
  const chain = middleware.length === 0 ? undefined : compose(...middleware);
  const out: Record<string, RouteHandler> = {};
  for (const [key, handler] of Object.entries(routes as object)) {
    const space = key.indexOf(" ");
    if (space < 0 || key[space + 1] !== "/") {
      throw new TypeError(
        `invalid route "${key}": expected "METHOD /path", such as "GET /users/:id"`,
      );
    }
    if (typeof handler !== "function") {
      throw new TypeError(
        `invalid route "${key}": the handler is not a function`,
      );
    }
    const path = key.slice(space + 1);
    const full = `${key.slice(0, space)} ${
      path === "/" && prefix !== "" ? prefix : prefix + path
    }`;
    out[full] = chain === undefined ? handler : wrap(chain, handler);
  }
  // Under a prefix the middleware also guards the paths no route takes, as
  // Hono's app.use("/api/*") does: no 404 or 405 before auth said yes, so
  // a client without credentials cannot tell which routes exist.
  if (prefix !== "" && chain !== undefined) {
    out[`${GUARD} ${prefix}/*`] = wrap(chain, unmatched);
  }
  return out as never; // the keys and handlers the signature spells out
}

/** The handler run inside `chain`; a synchronous throw becomes a rejection. */
function wrap(
  chain: (req: Request, next: Next) => Promise<Response>,
  handler: RouteHandler,
): RouteHandler {
  return (req, params) =>
    chain(req, (inner) => {
      try {
        return Promise.resolve(handler(inner, params));
      } catch (error) {
        return Promise.reject(error);
      }
    });
}
