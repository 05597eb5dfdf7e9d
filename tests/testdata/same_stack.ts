// One CQI middleware stack, served either natively (`serve`, which is
// Deno.serve or Bun.serve) or inside a Hono app through `toHono`. Prints
// "port N". Usage: same_stack.ts native|hono
import process from "node:process";
import { Hono } from "hono";
import {
  compose,
  type Middleware,
  type RouteHandler,
  router,
  serve,
  withHeaders,
} from "@cqi/http";
import { toHono } from "@cqi/http/hono";
import { notFound, readJson, recovery } from "@cqi/errors";

// Response.json's content-type differs between Deno and Bun; be explicit.
const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });

const tag: Middleware = async (req, next) =>
  withHeaders(await next(req), { "x-stack": "cqi" });
const identify: Middleware = (req, next) => {
  const headers = new Headers(req.headers);
  headers.set(
    "x-caller",
    req.headers.get("authorization") ? "known" : "anonymous",
  );
  return next(new Request(req, { headers }));
};
const gate: Middleware = (req, next) =>
  req.headers.get("authorization") === "Bearer wrong"
    ? json({ error: "unauthorized", code: "UNAUTHORIZED" }, 401)
    : next(req);
const stack = compose(recovery(), tag, gate, identify);

const routes: Record<string, RouteHandler> = {
  "GET /items/:id": (req, { id }) =>
    json({ id, caller: req.headers.get("x-caller") }),
  "PUT /items/:id": async (req, { id }) =>
    json({ id, body: await readJson(req) }),
  "GET /missing/:id": (_req, { id }) => {
    throw notFound("item", id);
  },
  "GET /old": () => Response.redirect("http://127.0.0.1/new", 308),
  "GET /boom": () => {
    throw new Error("secret stack detail");
  },
};
const notFoundBody = () => json({ error: "not found", code: "NOT_FOUND" }, 404);

let handler: (req: Request) => Response | Promise<Response>;
if (process.argv.at(-1) === "hono") {
  const app = new Hono();
  // Let handler errors reach CQI's recovery instead of Hono's logging 500.
  app.onError((error) => {
    throw error;
  });
  app.use(toHono(stack));
  for (const [key, route] of Object.entries(routes)) {
    const [method, path] = key.split(" ");
    app.on(
      method,
      path,
      (c) => route(c.req.raw, c.req.param() as Record<string, string>),
    );
  }
  app.notFound(notFoundBody);
  handler = app.fetch;
} else {
  const app = router(routes, { notFound: notFoundBody });
  handler = (req) => stack(req, async (r) => await app(r));
}
const server = serve(handler, { port: 0, hostname: "127.0.0.1" });
console.log(`port ${server.addr.port}`);
