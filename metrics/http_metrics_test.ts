import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { context, trace, TraceFlags } from "@opentelemetry/api";
import { Hono } from "hono";
import {
  applyMiddleware,
  getRoute,
  type Handler,
  json,
  router,
  serve,
  setRoute,
  withRequestScope,
} from "@cqi/http";
import { toHono } from "@cqi/http/hono";
import { notFound, recovery, temporary } from "@cqi/errors";
import {
  createRegistry,
  httpMetrics,
  type HttpMetricsOptions,
  type MetricsRegistry,
  recoveryMetrics,
} from "./mod.ts";
import { find, value } from "./testdata/exposition.ts";

const registry = () =>
  createRegistry({ namespace: "shop", defaultMetrics: false });

async function onServer(
  handler: Handler,
  fn: (base: string) => Promise<void>,
  onError: (error: unknown) => void = () => {},
) {
  await using server = serve(handler, {
    port: 0,
    hostname: "127.0.0.1",
    handleSignals: false,
    onError,
  });
  await fn(`http://127.0.0.1:${server.addr.port}`);
}

const ok = (method: string, path: string, status: number) => ({
  method,
  path,
  status_code: String(status),
});

/** Distinct `path` label values of the duration histogram. */
const pathLabels = (text: string) =>
  new Set(
    find(text, "shop_http_request_duration_seconds_count").map((s) =>
      s.labels.path
    ),
  );

describe("httpMetrics on a real server", () => {
  it("records duration, count, sizes and in-flight", async () => {
    const r = registry();
    const app = router({
      "POST /orders/:id": async (req) =>
        new Response(`stored ${await req.text()}`, {
          status: 201,
          headers: { "content-length": String(7 + 5) },
        }),
      "GET /orders/:id": () => Response.json({ id: 1 }),
    });
    await onServer(
      applyMiddleware(app, httpMetrics({ registry: r })),
      async (base) => {
        const post = await fetch(`${base}/orders/7`, {
          method: "POST",
          body: "hello",
        });
        assert.equal(await post.text(), "stored hello");
        await (await fetch(`${base}/orders/8`)).text();
        await (await fetch(`${base}/orders/9`)).text();
      },
    );
    const text = await r.metrics();
    const created = ok("POST", "/orders/:id", 201);
    assert.equal(
      value(text, "shop_http_request_count_total", {
        ...created,
        error_type: "",
      }),
      1,
    );
    assert.equal(
      value(text, "shop_http_request_duration_seconds_count", created),
      1,
    );
    const seconds = value(
      text,
      "shop_http_request_duration_seconds_sum",
      created,
    )!;
    assert.ok(seconds > 0 && seconds < 5, String(seconds));
    assert.equal(value(text, "shop_http_request_size_bytes_sum", created), 5);
    assert.equal(value(text, "shop_http_response_size_bytes_sum", created), 12);
    const read = ok("GET", "/orders/:id", 200);
    assert.equal(
      value(text, "shop_http_request_count_total", { ...read, error_type: "" }),
      2,
    );
    assert.equal(value(text, "shop_http_request_size_bytes_sum", read), 0);
    assert.equal(value(text, "shop_http_request_size_bytes_count", read), 2);
    // Response.json declares no Content-Length: not observed by default
    assert.equal(value(text, "shop_http_response_size_bytes_count", read), 0);
    assert.equal(value(text, "shop_http_requests_in_flight"), 0);
  });

  it("observes json() of @cqi/http, which declares its length, and no undeclared body", async () => {
    const r = registry();
    const app = router({
      "GET /declared": () => json({ id: "é1" }),
      "GET /undeclared": () => Response.json({ id: "é1" }),
    });
    await onServer(
      applyMiddleware(app, httpMetrics({ registry: r })),
      async (base) => {
        const declared = await fetch(`${base}/declared`);
        assert.equal(declared.headers.get("content-length"), "12");
        assert.deepEqual(await declared.json(), { id: "é1" });
        await (await fetch(`${base}/undeclared`)).body?.cancel();
      },
    );
    const text = await r.metrics();
    const size = (path: string, what: "sum" | "count") =>
      value(
        text,
        `shop_http_response_size_bytes_${what}`,
        ok("GET", path, 200),
      );
    assert.equal(size("/declared", "sum"), 12);
    assert.equal(size("/declared", "count"), 1);
    assert.equal(size("/undeclared", "count"), 0);
  });

  it("counts requests in flight", async () => {
    const r = registry();
    let release!: () => void;
    const released = new Promise<void>((resolve) => release = resolve);
    let started!: () => void;
    const running = new Promise<void>((resolve) => started = resolve);
    const app = applyMiddleware(async () => {
      started();
      await released;
      return new Response("done");
    }, httpMetrics({ registry: r }));
    await onServer(app, async (base) => {
      const pending = fetch(`${base}/slow`);
      await running;
      assert.equal(value(await r.metrics(), "shop_http_requests_in_flight"), 1);
      release();
      await (await pending).text();
    });
    assert.equal(value(await r.metrics(), "shop_http_requests_in_flight"), 0);
  });

  it("folds unknown methods into OTHER", async () => {
    const r = registry();
    const app = applyMiddleware(
      () => new Response(null, { status: 204 }),
      httpMetrics({ registry: r, route: () => "/" }),
    );
    await onServer(app, async (base) => {
      for (const method of ["PROPFIND", "PURGE", "DELETE"]) {
        await (await fetch(`${base}/x`, { method })).body?.cancel();
      }
    });
    const text = await r.metrics();
    assert.equal(
      value(
        text,
        "shop_http_request_duration_seconds_count",
        ok("OTHER", "/", 204),
      ),
      2,
    );
    assert.equal(
      value(
        text,
        "shop_http_request_duration_seconds_count",
        ok("DELETE", "/", 204),
      ),
      1,
    );
    // 204 has no body
    assert.equal(
      value(text, "shop_http_response_size_bytes_sum", ok("DELETE", "/", 204)),
      0,
    );
    assert.equal(
      value(
        text,
        "shop_http_response_size_bytes_count",
        ok("DELETE", "/", 204),
      ),
      1,
    );
  });

  it("keeps QUERY as a method label (@cqi/http's HTTP_METHODS)", async () => {
    const r = registry();
    const app = applyMiddleware(
      () => new Response(null, { status: 204 }),
      httpMetrics({ registry: r, route: () => "/search" }),
    );
    const res = await app(
      new Request("http://localhost/search", { method: "QUERY" }),
    );
    assert.equal(res.status, 204);
    const text = await r.metrics();
    assert.equal(
      value(
        text,
        "shop_http_request_duration_seconds_count",
        ok("QUERY", "/search", 204),
      ),
      1,
    );
    assert.equal(
      find(text, "shop_http_request_duration_seconds_count").some((s) =>
        s.labels.method === "OTHER"
      ),
      false,
    );
  });

  it("takes the route pattern from the Hono adapter", async () => {
    const r = registry();
    const app = new Hono();
    app.use(toHono(httpMetrics({ registry: r })));
    app.get("/users/:id", (c) => c.json({ id: c.req.param("id") }));
    await onServer(app.fetch, async (base) => {
      for (const id of ["1", "2", "3"]) {
        await (await fetch(`${base}/users/${id}`)).text();
      }
    });
    const text = await r.metrics();
    assert.deepEqual(pathLabels(text), new Set(["/users/:id"]));
    assert.equal(
      value(
        text,
        "shop_http_request_duration_seconds_count",
        ok("GET", "/users/:id", 200),
      ),
      3,
    );
  });

  it("records a thrown error as a 500 with its kind, and rethrows it", async () => {
    const r = registry();
    const failure = temporary("database down");
    const app = router({
      "GET /prices": () => {
        throw failure;
      },
      "GET /bug": () => Promise.reject(new TypeError("x is undefined")),
    });
    const escaped: unknown[] = [];
    await onServer(
      applyMiddleware(app, httpMetrics({ registry: r })),
      async (base) => {
        const res = await fetch(`${base}/prices`);
        assert.equal(res.status, 500); // serve's own answer: nothing mapped it
        await res.body?.cancel();
        await (await fetch(`${base}/bug`)).body?.cancel();
      },
      (error) => escaped.push(error),
    );
    assert.equal(escaped[0], failure);
    assert.ok(escaped[1] instanceof TypeError);
    const text = await r.metrics();
    assert.equal(
      value(text, "shop_http_request_count_total", {
        ...ok("GET", "/prices", 500),
        error_type: "temporary",
      }),
      1,
    );
    assert.equal(
      value(text, "shop_http_request_count_total", {
        ...ok("GET", "/bug", 500),
        error_type: "permanent",
      }),
      1,
    );
    assert.equal(
      value(
        text,
        "shop_http_request_duration_seconds_count",
        ok("GET", "/prices", 500),
      ),
      1,
    );
    assert.equal(
      value(
        text,
        "shop_http_response_size_bytes_count",
        ok("GET", "/prices", 500),
      ),
      0,
    );
    assert.equal(value(text, "shop_http_requests_in_flight"), 0);
  });

  it("labels errors that recovery recovered inside with their kind", async () => {
    const r = registry();
    const app = router({
      "GET /orders/:id": (_req, { id }) => {
        throw notFound("order", id);
      },
    });
    const handler = applyMiddleware(
      app,
      httpMetrics({ registry: r }),
      recovery({ onError: recoveryMetrics({ registry: r }) }),
    );
    await onServer(handler, async (base) => {
      const res = await fetch(`${base}/orders/7`);
      assert.equal(res.status, 404);
      await res.body?.cancel();
    });
    const text = await r.metrics();
    assert.equal(
      value(text, "shop_http_request_count_total", {
        ...ok("GET", "/orders/:id", 404),
        error_type: "not_found",
      }),
      1,
    );
    assert.equal(
      value(text, "shop_http_recovered_errors_total", {
        error_type: "not_found",
      }),
      1,
    );

    // without the hook the counter cannot know the kind
    const r2 = registry();
    const plain = applyMiddleware(
      app,
      httpMetrics({ registry: r2 }),
      recovery(),
    );
    await (await plain(new Request("http://localhost/orders/7"))).body
      ?.cancel();
    assert.equal(
      value(await r2.metrics(), "shop_http_request_count_total", {
        ...ok("GET", "/orders/:id", 404),
        error_type: "",
      }),
      1,
    );
  });

  it("counts streamed response bodies with responseSize: counted", async () => {
    const r = registry();
    const encoder = new TextEncoder();
    const app = router({
      "GET /stream": () =>
        new Response(
          new ReadableStream({
            start(controller) {
              for (const part of ["abc", "defg", "hi"]) {
                controller.enqueue(encoder.encode(part));
              }
              controller.close();
            },
          }),
          { status: 200, statusText: "Fine", headers: { "x-kind": "stream" } },
        ),
      "GET /json": () => Response.json({ a: 1 }),
      "GET /declared": () =>
        new Response("12345", { headers: { "content-length": "5" } }),
      "HEAD /json": () => Response.json({ a: 1 }),
    });
    await onServer(
      applyMiddleware(
        app,
        httpMetrics({ registry: r, responseSize: "counted" }),
      ),
      async (base) => {
        const res = await fetch(`${base}/stream`);
        assert.equal(res.headers.get("x-kind"), "stream");
        assert.equal(await res.text(), "abcdefghi");
        assert.equal(await (await fetch(`${base}/json`)).text(), '{"a":1}');
        assert.equal(await (await fetch(`${base}/declared`)).text(), "12345");
        await (await fetch(`${base}/json`, { method: "HEAD" })).body?.cancel();
      },
    );
    const text = await r.metrics();
    assert.equal(
      value(
        text,
        "shop_http_response_size_bytes_sum",
        ok("GET", "/stream", 200),
      ),
      9,
    );
    assert.equal(
      value(text, "shop_http_response_size_bytes_sum", ok("GET", "/json", 200)),
      7,
    );
    assert.equal(
      value(
        text,
        "shop_http_response_size_bytes_sum",
        ok("GET", "/declared", 200),
      ),
      5,
    );
    assert.equal(
      value(
        text,
        "shop_http_response_size_bytes_sum",
        ok("HEAD", "/json", 200),
      ),
      0,
    );
  });
});

describe("httpMetrics counted bodies", () => {
  const counted = (body: ReadableStream<Uint8Array>) => {
    const r = registry();
    const handler = applyMiddleware(
      () => new Response(body),
      httpMetrics({ registry: r, route: () => "/", responseSize: "counted" }),
    );
    return { r, handler };
  };
  const sizes = async (r: MetricsRegistry) => {
    const text = await r.metrics();
    return [
      value(text, "shop_http_response_size_bytes_count", ok("GET", "/", 200)),
      value(text, "shop_http_response_size_bytes_sum", ok("GET", "/", 200)),
    ];
  };

  it("observes what was sent when the client goes away", async () => {
    let cancelled!: (reason: unknown) => void;
    const gone = new Promise((resolve) => cancelled = resolve);
    const { r, handler } = counted(
      new ReadableStream({
        pull(controller) {
          controller.enqueue(new Uint8Array(10)); // never ends
        },
        cancel: (reason) => cancelled(reason),
      }),
    );
    const reader = (await handler(new Request("http://localhost/")))
      .body!.getReader();
    assert.equal((await reader.read()).value?.byteLength, 10);
    await reader.cancel("client left");
    assert.equal(await gone, "client left");
    const [count, sum] = await sizes(r);
    assert.equal(count, 1);
    assert.ok(sum! >= 10 && sum! % 10 === 0, String(sum));
  });

  it("observes what was sent when the body fails", async () => {
    let sent = false;
    const { r, handler } = counted(
      new ReadableStream({
        pull(controller) {
          if (sent) controller.error(new Error("disk gone"));
          else controller.enqueue(new Uint8Array(4));
          sent = true;
        },
      }),
    );
    const res = await handler(new Request("http://localhost/"));
    await assert.rejects(res.arrayBuffer(), /disk gone/);
    assert.deepEqual(await sizes(r), [1, 4]);
  });
});

describe("httpMetrics labels", () => {
  it("never turns raw paths into labels: 10,000 paths, a bounded series count", async () => {
    const r = registry();
    const handler = applyMiddleware(
      router({ "GET /users/:id": (_req, { id }) => Response.json({ id }) }),
      httpMetrics({ registry: r }),
    );
    for (let i = 0; i < 10_000; i++) {
      const path = i % 2 === 0
        ? `/users/${i}`
        : `/random/${i}/${crypto.randomUUID()}`;
      await (await handler(new Request(`http://localhost${path}`))).body
        ?.cancel();
    }
    const text = await r.metrics();
    assert.deepEqual(pathLabels(text), new Set(["/users/:id", "unmatched"]));
    assert.equal(
      find(text, "shop_http_request_duration_seconds_count").length,
      2,
    );
    assert.equal(find(text, "shop_http_request_count_total").length, 2);
    assert.ok(text.split("\n").length < 200, "exposition stays small");
    assert.equal(
      value(text, "shop_http_request_count_total", {
        ...ok("GET", "unmatched", 404),
        error_type: "",
      }),
      5_000,
    );
  });

  it("caps distinct path values at maxPaths, then labels them other", async () => {
    const r = registry();
    // a misuse: the raw path as the route pattern
    const handler = applyMiddleware(
      () => Promise.reject(new Error("boom")),
      httpMetrics({
        registry: r,
        route: (req) => new URL(req.url).pathname,
        maxPaths: 5,
      }),
    );
    for (let i = 0; i < 50; i++) {
      await assert.rejects(
        handler(new Request(`http://localhost/p/${i}`)),
        /boom/,
      );
    }
    const text = await r.metrics();
    const paths = pathLabels(text);
    assert.equal(paths.size, 6);
    assert.ok(paths.has("other"));
    assert.equal(
      value(text, "shop_http_request_count_total", {
        ...ok("GET", "other", 500),
        error_type: "permanent",
      }),
      45,
    );
  });

  it("rethrows the handler's error even when the route option throws", async () => {
    const r = registry();
    const failure = new Error("handler failed");
    const handler = applyMiddleware(
      () => Promise.reject(failure),
      httpMetrics({
        registry: r,
        route: () => {
          throw new Error("route failed");
        },
      }),
    );
    await assert.rejects(
      handler(new Request("http://localhost/")),
      (e) => e === failure,
    );
    assert.equal(value(await r.metrics(), "shop_http_requests_in_flight"), 0);
  });

  it("prefers a recorded route to the route option", async () => {
    const r = registry();
    const handler = applyMiddleware(
      (req) => {
        if (req.url.endsWith("/set")) setRoute("/set/:x");
        return new Response("ok");
      },
      httpMetrics({ registry: r, route: () => "/fallback" }),
    );
    await (await handler(new Request("http://localhost/a/set"))).text();
    await (await handler(new Request("http://localhost/b"))).text();
    assert.deepEqual(
      pathLabels(await r.metrics()),
      new Set(["/set/:x", "/fallback"]),
    );
  });

  it("joins a request scope an outer middleware opened", async () => {
    const r = registry();
    let seen: string | undefined;
    const handler = applyMiddleware(
      router({ "GET /a/:b": () => new Response("ok") }),
      (req, next) =>
        withRequestScope(async () => {
          const res = await next(req);
          seen = getRoute();
          return res;
        }),
      httpMetrics({ registry: r }),
    );
    await (await handler(new Request("http://localhost/a/1"))).text();
    assert.equal(seen, "/a/:b");
    assert.deepEqual(pathLabels(await r.metrics()), new Set(["/a/:b"]));
  });

  it("does not observe a chunked request body of unknown size", async () => {
    const r = registry();
    const handler = applyMiddleware(
      async (req) => new Response(await req.text()),
      httpMetrics({ registry: r, route: () => "/" }),
    );
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("abc"));
        controller.close();
      },
    });
    const req = new Request("http://localhost/", {
      method: "POST",
      headers: { "transfer-encoding": "chunked" },
      body,
      duplex: "half",
    } as RequestInit);
    assert.equal(await (await handler(req)).text(), "abc");
    const text = await r.metrics();
    assert.equal(
      value(text, "shop_http_request_size_bytes_count", ok("POST", "/", 200)),
      0,
    );
    assert.equal(
      value(
        text,
        "shop_http_request_duration_seconds_count",
        ok("POST", "/", 200),
      ),
      1,
    );
  });
});

describe("httpMetrics exemplars", () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const spanId = "00f067aa0ba902b7";
  const inSpan = <T>(flags: number, fn: () => T, isRemote = false): T =>
    context.with(
      trace.setSpan(
        context.active(),
        trace.wrapSpanContext({ traceId, spanId, traceFlags: flags, isRemote }),
      ),
      fn,
    );

  async function scrape(
    options: Partial<HttpMetricsOptions>,
    flags: number,
    isRemote = false,
  ) {
    const r: MetricsRegistry = registry();
    const handler = applyMiddleware(
      () => new Response("ok"),
      httpMetrics({ registry: r, route: () => "/", ...options }),
    );
    await inSpan(
      flags,
      async () => (await handler(new Request("http://localhost/"))).text(),
      isRemote,
    );
    return await r.metrics("openmetrics");
  }

  it("attaches the sampled span's ids", async () => {
    const text = await scrape({}, TraceFlags.SAMPLED);
    const exemplar = `# {trace_id="${traceId}",span_id="${spanId}"}`;
    assert.ok(
      text.split("\n").some((l) =>
        l.startsWith("shop_http_request_duration_seconds_bucket") &&
        l.includes(exemplar)
      ),
    );
    assert.ok(
      text.split("\n").some((l) =>
        l.startsWith("shop_http_request_count_total") && l.includes(exemplar)
      ),
    );
  });

  it("gives a caller's span (remote, no tracer here) its trace id only", async () => {
    const text = await scrape({}, TraceFlags.SAMPLED, true);
    assert.match(text, new RegExp(`# \\{trace_id="${traceId}"\\}`));
    assert.doesNotMatch(text, /span_id/);
  });

  it("skips unsampled spans, and all spans when disabled", async () => {
    assert.doesNotMatch(await scrape({}, TraceFlags.NONE), /trace_id/);
    assert.doesNotMatch(
      await scrape({ exemplars: false }, TraceFlags.SAMPLED),
      /trace_id/,
    );
  });
});

describe("httpMetrics options", () => {
  it("rejects bad options", () => {
    assert.throws(
      () => httpMetrics(undefined as unknown as HttpMetricsOptions),
      /httpMetrics: registry is required/,
    );
    for (const maxPaths of [0, 1.5, -1]) {
      assert.throws(
        () => httpMetrics({ registry: registry(), maxPaths }),
        (e: Error) => e instanceof RangeError && /maxPaths/.test(e.message),
      );
    }
    assert.throws(
      () =>
        httpMetrics({
          registry: registry(),
          responseSize: "exact" as "counted",
        }),
      /responseSize must be "declared" or "counted"/,
    );
  });

  it("shares its collectors between instances on one registry", async () => {
    const r = registry();
    const a = applyMiddleware(
      () => new Response("a"),
      httpMetrics({ registry: r, route: () => "/" }),
    );
    const b = applyMiddleware(
      () => new Response("b"),
      httpMetrics({ registry: r, route: () => "/" }),
    );
    await (await a(new Request("http://localhost/"))).text();
    await (await b(new Request("http://localhost/"))).text();
    assert.equal(
      value(
        await r.metrics(),
        "shop_http_request_duration_seconds_count",
        ok("GET", "/", 200),
      ),
      2,
    );
    assert.throws(
      () => httpMetrics({ registry: r, buckets: [0.1, 1] }),
      /shop_http_request_duration_seconds.*cannot register/,
    );
  });
});
