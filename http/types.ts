/**
 * A request handler: takes a web-standard {@linkcode Request} and answers
 * with a {@linkcode Response}. `Deno.serve`, `Bun.serve` and Hono's
 * `app.fetch` all accept this shape.
 *
 * @example Usage
 * ```ts
 * import type { Handler } from "@cqi/http";
 *
 * const hello: Handler = () => new Response("hello");
 * ```
 */
export type Handler = (req: Request) => Response | Promise<Response>;

/**
 * The continuation a {@linkcode Middleware} calls to run the rest of the
 * chain. It always returns a promise and may be called at most once.
 *
 * @example Usage
 * ```ts
 * import type { Next } from "@cqi/http";
 *
 * const next: Next = (req) => Promise.resolve(new Response(req.url));
 * ```
 */
export type Next = (req: Request) => Promise<Response>;

/**
 * A fetch-style middleware: it receives the request and the rest of the
 * chain, and returns the response. It may pass a different request on and
 * return a different response than the one `next` gave it.
 *
 * @example Usage
 * ```ts
 * import { type Middleware, withHeaders } from "@cqi/http";
 *
 * const poweredBy: Middleware = async (req, next) => {
 *   const res = await next(req);
 *   // withHeaders copies a response whose headers are immutable (redirects)
 *   return withHeaders(res, { "x-powered-by": "cqi" });
 * };
 * ```
 */
export type Middleware = (
  req: Request,
  next: Next,
) => Response | Promise<Response>;
