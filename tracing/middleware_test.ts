import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { trace } from "@opentelemetry/api";
import { applyMiddleware, type Handler, router, serve } from "@cqi/http";
import { toHono } from "@cqi/http/hono";
import { notFound, recovery } from "@cqi/errors";
import {
  createTracing,
  type FinishedSpan,
  httpTracing,
  type HttpTracingOptions,
  tracedFetch,
  traceErrors,
  type TracingOptions,
} from "./mod.ts";

const T = "4bf92f3577b34da6a3ce929d0e0e4736";
const P = "00f067aa0ba902b7";
const local = { port: 0, hostname: "127.0.0.1", handleSignals: false };

const app = router({
  "GET /orders/:id": (_req, { id }) => Response.json({ id }),
  "GET /down": () => new Response("down", { status: 503 }),
  "GET /missing": () => new Response("no", { status: 404 }),
  "GET /boom": () => {
    throw new TypeError("x is undefined");
  },
});

/** Serves `handler` with tracing, sends one request, returns what came out. */
async function request(
  path: string,
  init: RequestInit = {},
  {
    handler = app,
    tracing = { sampler: "always" },
    middleware = {},
  }: {
    handler?: Handler;
    tracing?: Partial<TracingOptions>;
    middleware?: HttpTracingOptions;
  } = {},
): Promise<
  {
    res: Response;
    body: string;
    spans: FinishedSpan[];
    port: number;
    errors: unknown[];
  }
> {
  await using handle = createTracing({
    service: { name: "mw" },
    exporter: "memory",
    ...tracing,
  });
  const errors: unknown[] = [];
  await using server = serve(
    applyMiddleware(handler, httpTracing(middleware)),
    { ...local, onError: (e) => errors.push(e) },
  );
  const res = await fetch(`http://127.0.0.1:${server.addr.port}${path}`, init);
  const body = await res.text();
  return { res, body, spans: handle.spans(), port: server.addr.port, errors };
}

describe("httpTracing", () => {
  it("makes one server span {METHOD} {route} with the stable HTTP attributes", async () => {
    const { res, spans, port } = await request("/orders/7?secret=1", {
      headers: { "user-agent": "mw-test/1" },
    });
    assert.equal(res.status, 200);
    assert.equal(spans.length, 1);
    const [span] = spans;
    assert.equal(span.name, "GET /orders/:id");
    assert.equal(span.kind, "server");
    assert.equal(span.parentSpanId, undefined);
    assert.deepEqual(span.attributes, {
      "http.request.method": "GET",
      "url.path": "/orders/7",
      "url.scheme": "http",
      "server.address": "127.0.0.1",
      "server.port": port,
      "user_agent.original": "mw-test/1",
      "http.route": "/orders/:id",
      "http.response.status_code": 200,
    });
    assert.equal(span.status.code, "unset");
  });

  it("continues the incoming traceparent and tracestate", async () => {
    const { spans } = await request("/orders/1", {
      headers: {
        traceparent: `00-${T}-${P}-01`,
        tracestate: "congo=t61rcWkgMzE",
      },
    });
    assert.equal(spans[0].traceId, T);
    assert.equal(spans[0].parentSpanId, P);
  });

  for (
    const traceparent of [
      `00-${"0".repeat(32)}-${P}-01`,
      `00-${T}-${"0".repeat(16)}-01`,
      `ff-${T}-${P}-01`,
      `00-${T.toUpperCase()}-${P}-01`,
      `00-${T}-${P}-01-extra`,
      "not a traceparent",
    ]
  ) {
    it(`starts a new trace for the malformed traceparent ${traceparent.slice(0, 24)}…`, async () => {
      const { res, spans } = await request("/orders/1", {
        headers: { traceparent, tracestate: "congo=t61rcWkgMzE" },
      });
      assert.equal(res.status, 200);
      assert.notEqual(spans[0].traceId, T);
      assert.match(spans[0].traceId, /^[0-9a-f]{32}$/);
      assert.equal(spans[0].parentSpanId, undefined);
    });
  }

  it("sets status error on a 5xx answer, not on a 4xx one", async () => {
    const down = (await request("/down")).spans[0];
    assert.equal(down.status.code, "error");
    assert.equal(down.attributes["error.type"], "503");
    assert.equal(down.attributes["http.response.status_code"], 503);
    const missing = (await request("/missing")).spans[0];
    assert.equal(missing.status.code, "unset");
    assert.equal(missing.attributes["http.response.status_code"], 404);
  });

  it("records a thrown error and rethrows it", async () => {
    const { res, spans, errors } = await request("/boom");
    assert.equal(res.status, 500); // serve's plain 500: the error passed through
    assert.equal((errors[0] as Error).message, "x is undefined");
    const [span] = spans;
    assert.equal(span.name, "GET /boom");
    assert.equal(span.status.code, "error");
    assert.equal(span.status.message, "x is undefined");
    assert.equal(span.attributes["error.type"], "TypeError");
    assert.equal(span.events[0].name, "exception");
    assert.equal(
      span.events[0].attributes["exception.message"],
      "x is undefined",
    );
  });

  it("with recovery, traceErrors records the error recovery answered for", async () => {
    const handler = applyMiddleware(app, recovery({ onError: traceErrors() }));
    const { res, spans } = await request("/boom", {}, { handler });
    assert.equal(res.status, 500);
    const [span] = spans;
    assert.equal(span.status.code, "error");
    assert.equal(span.status.message, "x is undefined");
    assert.equal(span.attributes["error.type"], "TypeError");
    assert.equal(span.attributes["http.response.status_code"], 500);
    assert.equal(span.events[0].attributes["exception.type"], "TypeError");
    const gone = applyMiddleware(() => {
      throw notFound("order", 1);
    }, recovery({ onError: traceErrors() }));
    const quiet = await request("/x", {}, { handler: gone });
    assert.equal(quiet.res.status, 404);
    assert.deepEqual(quiet.spans[0].events, [], "a 4xx is not a span error");
    assert.equal(quiet.spans[0].status.code, "unset");
  });

  it("names an unrouted request by its method, and an unknown method HTTP", async () => {
    const plain: Handler = () => new Response("ok");
    assert.equal(
      (await request("/anything", {}, { handler: plain })).spans[0].name,
      "GET",
    );
    const { spans } = await request("/", { method: "PURGE" }, {
      handler: plain,
    });
    assert.equal(spans[0].name, "HTTP");
    assert.equal(spans[0].attributes["http.request.method"], "_OTHER");
    assert.equal(spans[0].attributes["http.request.method_original"], "PURGE");
  });

  it("returns the server span's traceparent when asked", async () => {
    const { res, spans } = await request("/orders/1", {
      headers: { traceparent: `00-${T}-${P}-01` },
    }, { middleware: { returnTraceparent: true } });
    assert.equal(
      res.headers.get("traceparent"),
      `00-${T}-${spans[0].spanId}-01`,
    );
    const redirect = await request("/", {
      redirect: "manual",
    }, {
      handler: () => Response.redirect("http://127.0.0.1/elsewhere", 302),
      middleware: { returnTraceparent: true },
    });
    assert.equal(redirect.res.status, 302, "immutable headers are copied");
    assert.match(
      redirect.res.headers.get("traceparent") ?? "",
      /^00-[0-9a-f]{32}-/,
    );
  });

  it("with sampling never records nothing but still answers a traceparent", async () => {
    const { res, spans } = await request("/orders/1", {
      headers: { traceparent: `00-${T}-${P}-01` },
    }, {
      tracing: { sampler: "never" },
      middleware: { returnTraceparent: true },
    });
    assert.deepEqual(spans, []);
    const [, trace, parent, flags] = (res.headers.get("traceparent") ?? "")
      .split("-");
    assert.equal(trace, T);
    assert.notEqual(parent, P);
    assert.equal(flags, "00");
  });

  it("still ends the span when the URL is relative (Bun, for a bad Host header)", async () => {
    await using handle = createTracing({
      service: { name: "mw" },
      exporter: "memory",
      sampler: "always",
    });
    const req = {
      url: "/orders/1",
      method: "GET",
      headers: new Headers(),
    } as unknown as Request;
    const res = await httpTracing()(
      req,
      () => Promise.resolve(new Response("ok")),
    );
    assert.equal(res.status, 200);
    const [span] = handle.spans();
    assert.equal(span.name, "GET");
    assert.equal(span.attributes["url.path"], undefined);
  });

  it("names the span from a Hono route", async () => {
    await using handle = createTracing({
      service: { name: "hono" },
      exporter: "memory",
      sampler: "always",
    });
    const hono = new Hono();
    hono.use(toHono(httpTracing()));
    hono.get("/users/:id", (c) => c.json({ id: c.req.param("id") }));
    await using server = serve(hono.fetch, local);
    await (await fetch(`http://127.0.0.1:${server.addr.port}/users/9`)).text();
    assert.equal(handle.spans()[0].name, "GET /users/:id");
    assert.equal(handle.spans()[0].attributes["http.route"], "/users/:id");
  });
});

describe("httpTracing without createTracing", () => {
  it("passes through, continuing the incoming trace context for the handler and its calls", async () => {
    const seen: string[] = [];
    await using downstream = serve(
      (req) => new Response(req.headers.get("traceparent") ?? "none"),
      local,
    );
    const handler = applyMiddleware(async () => {
      seen.push(trace.getActiveSpan()?.spanContext().traceId ?? "none");
      const res = await tracedFetch(
        `http://127.0.0.1:${downstream.addr.port}/`,
      );
      return new Response(await res.text());
    }, httpTracing({ returnTraceparent: true }));
    await using server = serve(handler, local);
    const url = `http://127.0.0.1:${server.addr.port}/`;
    const traced = await fetch(url, {
      headers: { traceparent: `00-${T}-${P}-01`, baggage: "tenant=acme" },
    });
    assert.equal(await traced.text(), `00-${T}-${P}-01`, "forwarded unchanged");
    assert.equal(traced.headers.get("traceparent"), null, "no span, no header");
    const untraced = await fetch(url);
    assert.equal(await untraced.text(), "none");
    const malformed = await fetch(url, { headers: { traceparent: "garbage" } });
    assert.equal(await malformed.text(), "none");
    assert.deepEqual(seen, [T, "none", "none"]);
  });
});
