import type { Handler, Middleware, Next } from "./types.ts";

// A composed middleware carries its chain, so that composing it again (the
// stack of `@cqi/service` inside `applyMiddleware`) runs one flat chain
// rather than a dispatch inside a dispatch: the same order, a level less.
const CHAIN = Symbol("cqi.compose.chain");

function flatten(middleware: readonly Middleware[]): Middleware[] {
  return middleware.flatMap((m) =>
    (m as { [CHAIN]?: Middleware[] })[CHAIN] ?? [m]
  );
}

/**
 * Composes middleware into one. The first middleware listed is the
 * outermost: it runs first and sees the final response. Calling `next` more
 * than once from the same middleware invocation rejects with an error.
 *
 * @example Usage
 * ```ts
 * import { compose, type Middleware, withHeaders } from "@cqi/http";
 *
 * const tag = (name: string): Middleware => async (req, next) => {
 *   const res = await next(req);
 *   const chain = res.headers.get("x-chain");
 *   return withHeaders(res, { "x-chain": chain ? `${chain}, ${name}` : name });
 * };
 * const both = compose(tag("outer"), tag("inner"));
 * const res = await both(
 *   new Request("http://localhost/"),
 *   () => Promise.resolve(new Response("ok")),
 * );
 * console.log(res.headers.get("x-chain")); // "inner, outer"
 * ```
 *
 * @param middleware The middleware, outermost first.
 * @returns One middleware that runs them all in order; it always returns a
 *   promise.
 */
export function compose(
  ...middleware: Middleware[]
): (req: Request, next: Next) => Promise<Response> {
  const chain = flatten(middleware);
  const composed = (req: Request, next: Next) => dispatch(chain, 0, req, next);
  return Object.assign(composed, { [CHAIN]: chain });
}

/**
 * Wraps a handler in middleware, outermost first, and returns the resulting
 * handler. A synchronous throw from the handler becomes a rejected promise,
 * so middleware such as `recovery` sees every failure the same way.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware, type Middleware, withHeaders } from "@cqi/http";
 *
 * const noStore: Middleware = async (req, next) =>
 *   withHeaders(await next(req), { "cache-control": "no-store" });
 * const handler = applyMiddleware(() => new Response("hi"), noStore);
 * const res = await handler(new Request("http://localhost/"));
 * console.log(res.headers.get("cache-control")); // "no-store"
 * ```
 *
 * @param handler The innermost handler.
 * @param middleware The middleware, outermost first.
 * @returns A handler that runs the middleware around `handler`.
 */
export function applyMiddleware(
  handler: Handler,
  ...middleware: Middleware[]
): (req: Request) => Promise<Response> {
  const inner: Next = (req) => {
    try {
      return Promise.resolve(handler(req));
    } catch (error) {
      return Promise.reject(error);
    }
  };
  if (middleware.length === 0) return inner;
  const chain = flatten(middleware);
  return (req) => dispatch(chain, 0, req, inner);
}

function dispatch(
  chain: Middleware[],
  index: number,
  req: Request,
  last: Next,
): Promise<Response> {
  if (index === chain.length) return last(req);
  let called = false;
  const next: Next = (nextReq) => {
    if (called) {
      return Promise.reject(
        new Error(`next() called more than once by middleware #${index}`),
      );
    }
    called = true;
    return dispatch(chain, index + 1, nextReq, last);
  };
  try {
    return Promise.resolve(chain[index](req, next));
  } catch (error) {
    return Promise.reject(error);
  }
}
