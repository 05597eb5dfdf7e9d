/**
 * The HTTP core of CQI: the fetch-style {@linkcode Middleware} contract,
 * {@linkcode compose}, the request-scoped async context shared by every CQI
 * module, a small {@linkcode router} (with {@linkcode group} for middleware
 * per group of routes), and {@linkcode serve} with graceful
 * shutdown on Deno and Bun. The Hono adapter lives at `@cqi/http/hono`.
 *
 * @example Usage
 * ```ts
 * import {
 *   applyMiddleware,
 *   type Middleware,
 *   router,
 *   serve,
 *   withHeaders,
 * } from "@cqi/http";
 *
 * const timing: Middleware = async (req, next) => {
 *   const start = performance.now();
 *   const res = await next(req);
 *   const dur = (performance.now() - start).toFixed(1);
 *   return withHeaders(res, { "server-timing": `app;dur=${dur}` });
 * };
 * const app = router({
 *   "GET /hello/:name": (_req, { name }) => Response.json({ hello: name }),
 * });
 * const server = serve(applyMiddleware(app, timing), {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/hello/ada`);
 * console.log(await res.json()); // { hello: "ada" }
 * await server.shutdown();
 * ```
 *
 * @module
 */
export type { Handler, Middleware, Next } from "./types.ts";
export { applyMiddleware, compose } from "./compose.ts";
export { ContextKey } from "./context.ts";
export { withHeaders } from "./headers.ts";
export { json } from "./json.ts";
export { HTTP_METHODS } from "./methods.ts";
export type { ServiceIdentity } from "./service_identity.ts";
export { requestPath } from "./request_path.ts";
export {
  addLogFields,
  getLogFields,
  getRoute,
  RequestSlot,
  type ScopeContext,
  setRoute,
  withRequestScope,
} from "./request_scope.ts";
export {
  type RouteHandler,
  type RouteParams,
  router,
  type RouterOptions,
  type Routes,
} from "./router.ts";
export { group } from "./group.ts";
export { ListenerError } from "./listener.ts";
export { onSignals } from "./signals.ts";
export { readEnv } from "./env.ts";
export {
  serve,
  type ServeOptions,
  type Server,
  type ServerAddr,
} from "./serve.ts";
