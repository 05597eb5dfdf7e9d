// The handlers compared by the HTTP benchmarks. Each answers GET / with a
// small JSON body; they differ only in what wraps the handler.
import { Hono } from "hono";
import { applyMiddleware, type Middleware } from "@cqi/http";
import { recovery } from "@cqi/errors";

const body = JSON.stringify({ ok: true });
const headers = { "content-type": "application/json" };
const answer = () => new Response(body, { headers });

const noop: Middleware = (req, next) => next(req);

function hono(): (req: Request) => Response | Promise<Response> {
  const app = new Hono();
  for (let i = 0; i < 5; i++) app.use(async (_c, next) => await next());
  app.get("/", () => answer());
  return app.fetch;
}

/** bare: the handler alone; cqi: behind recovery + 4 no-op middleware; hono: a Hono app with 5 no-op middleware. */
export const variants: Record<
  string,
  () => (req: Request) => Response | Promise<Response>
> = {
  bare: () => answer,
  cqi: () => applyMiddleware(answer, recovery(), noop, noop, noop, noop),
  hono,
};
