import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { context, trace } from "@opentelemetry/api";
import {
  addLogFields,
  applyMiddleware,
  type Handler,
  type Middleware,
  router,
  serve,
} from "@cqi/http";
import { notFound, readJson, recovery } from "@cqi/errors";
import {
  accessLog,
  type AccessLogOptions,
  createLogger,
  logger,
  memorySink,
} from "./mod.ts";
import { hangUpMidBody } from "../tests/_raw_client.ts";
import { runtime } from "../tests/_util.ts";

/** Serves `handler` behind accessLog on loopback and makes one request. */
async function call(
  handler: Handler,
  init: RequestInit & { path?: string } = {},
  options: AccessLogOptions = {},
  inner: Middleware[] = [],
) {
  const sink = memorySink();
  const log = createLogger({
    service: { name: "web" },
    level: "debug",
    output: sink,
  });
  await using server = serve(
    applyMiddleware(handler, accessLog({ logger: log, ...options }), ...inner),
    {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
      onError: () => {}, // an error escaping on purpose is expected here
    },
  );
  const res = await fetch(
    `http://127.0.0.1:${server.addr.port}${init.path ?? "/"}`,
    init,
  );
  const body = await res.text();
  return { res, body, records: sink.records };
}

const access = (records: Array<Record<string, unknown>>) =>
  records.filter((r) => r.message === "request completed");

describe("accessLog on a real server", () => {
  it("writes one line per request with the request's fields", async () => {
    const { res, records } = await call(
      router({
        "POST /orders/:id": async (req) => {
          const body = JSON.stringify({ got: await req.text() });
          return new Response(body, {
            headers: {
              "content-type": "application/json",
              "content-length": String(body.length),
            },
          });
        },
      }),
      {
        method: "POST",
        path: "/orders/42?x=1",
        body: "hello",
        headers: { "user-agent": "tests/1.0" },
      },
    );
    assert.equal(res.status, 200);
    const lines = access(records);
    assert.equal(lines.length, 1);
    const line = lines[0];
    assert.equal(line.level, "info");
    assert.equal(line.method, "POST");
    assert.equal(line.route, "/orders/:id");
    assert.equal(line.status, 200);
    assert.equal(typeof line.duration_ms, "number");
    assert.ok((line.duration_ms as number) >= 0);
    assert.equal(line.request_bytes, 5);
    assert.equal(line.response_bytes, 15);
    assert.equal(line.user_agent, "tests/1.0");
    assert.equal(line.remote_addr, undefined, "a plain Request has none");
    assert.equal(line.service_name, "web");
    assert.equal(line.request_id, res.headers.get("x-request-id"));
  });

  it("falls back to the path when no router recorded a route", async () => {
    const { records } = await call(() => new Response("ok"), {
      path: "/raw/path?q=1#frag",
    });
    assert.equal(access(records)[0].route, "/raw/path");
  });

  it("cuts a 60 KB path and long client values, marking the cut, in one JSON line", async () => {
    const sink = memorySink();
    await using server = serve(
      applyMiddleware(
        () => new Response("ok"),
        accessLog({
          logger: createLogger({
            service: { name: "web" },
            level: "debug",
            output: sink,
          }),
          logStart: true,
          remoteAddr: (req) => req.headers.get("x-forwarded-for") ?? undefined,
        }),
      ),
      { port: 0, hostname: "127.0.0.1", handleSignals: false },
    );
    const agent = 'evil/1.0 "\t' + "u".repeat(3_000);
    const forwarded = "203.0.113.9, ".repeat(100) + "198.51.100.1";
    // Bun answers 431 itself to a request head over 16 KiB, so only the
    // shorter path (with the long headers) reaches its handler; Deno takes
    // both.
    const logged: number[] = [];
    for (const length of [8_000, 60_000]) {
      const path = "/" + "a".repeat(length - 1);
      sink.lines.length = 0;
      sink.records.length = 0;
      const res = await fetch(
        `http://127.0.0.1:${server.addr.port}${path}?q=1`,
        length > 8_000 ? {} : {
          headers: { "user-agent": agent, "x-forwarded-for": forwarded },
        },
      );
      await res.text();
      if (res.status === 431 && runtime === "bun") {
        assert.equal(sink.lines.length, 0, "Bun refused it before any handler");
        continue;
      }
      assert.equal(res.status, 200);
      logged.push(length);
      const [start, end] = sink.lines;
      for (const line of [start, end]) {
        assert.ok(!line.includes("\n"), "one line");
        // deno-lint-ignore no-control-regex -- looking for them
        assert.ok(!/[\u0000-\u001f]/.test(line), "no control char");
        assert.ok(line.length < 4_096, `bounded, got ${line.length}`);
      }
      const record = JSON.parse(end);
      assert.equal(record.message, "request completed");
      assert.equal(record.route.length, 2048);
      assert.equal(record.route, path.slice(0, 2047) + "…");
      assert.equal(record.route_length, length);
      const begun = JSON.parse(start);
      assert.equal(begun.path, record.route);
      assert.equal(begun.path_length, length);
      if (length === 8_000) {
        assert.equal(record.user_agent, agent.slice(0, 511) + "…");
        assert.equal(record.user_agent_length, agent.length);
        assert.equal(record.remote_addr, forwarded.slice(0, 511) + "…");
        assert.equal(record.remote_addr_length, forwarded.length);
      }
    }
    assert.deepEqual(logged, runtime === "bun" ? [8_000] : [8_000, 60_000]);
  });

  it("writes values at the limits as they are", async () => {
    const path = "/" + "p".repeat(2047);
    const agent = "a".repeat(512);
    const { records } = await call(() => new Response("ok"), {
      path,
      headers: { "user-agent": agent },
    });
    const [line] = access(records);
    assert.equal(line.route, path);
    assert.equal(line.user_agent, agent);
    assert.equal(line.route_length, undefined);
    assert.equal(line.user_agent_length, undefined);
  });

  for (
    const [status, level] of [
      [201, "info"],
      [302, "info"],
      [404, "warn"],
      [429, "warn"],
      [499, "info"],
      [500, "error"],
      [503, "error"],
    ] as const
  ) {
    it(`logs a ${status} at ${level}`, async () => {
      const { records } = await call(() =>
        new Response(null, {
          status,
          headers: status === 302 ? { location: "/elsewhere" } : {},
        }), { redirect: "manual" });
      const [line] = access(records);
      assert.equal(line.status, status);
      assert.equal(line.level, level);
    });
  }

  it("reuses a valid x-request-id and sets it on the response", async () => {
    const id = "req-123_ABC.def";
    const { res, records } = await call(() => new Response("ok"), {
      headers: { "x-request-id": id },
    });
    assert.equal(res.headers.get("x-request-id"), id);
    assert.equal(access(records)[0].request_id, id);
  });

  for (
    const [name, id] of [
      ["too long", "a".repeat(129)],
      ["with a space", "a b"],
      ["with a quote", 'a"b'],
      ["with a slash", "a/b"],
    ]
  ) {
    it(`generates an id for an invalid x-request-id (${name})`, async () => {
      const { res, records } = await call(() => new Response("ok"), {
        headers: { "x-request-id": id },
      });
      const got = res.headers.get("x-request-id")!;
      assert.notEqual(got, id);
      assert.match(got, /^[0-9a-f-]{36}$/);
      assert.equal(access(records)[0].request_id, got);
    });
  }

  it("accepts an id of exactly 128 characters", async () => {
    const id = "a".repeat(128);
    const { res } = await call(() => new Response("ok"), {
      headers: { "x-request-id": id },
    });
    assert.equal(res.headers.get("x-request-id"), id);
  });

  it("generates a distinct id per request", async () => {
    const sink = memorySink();
    await using server = serve(
      applyMiddleware(
        () => new Response("ok"),
        accessLog({ logger: createLogger({ output: sink }) }),
      ),
      { port: 0, hostname: "127.0.0.1", handleSignals: false },
    );
    const url = `http://127.0.0.1:${server.addr.port}/`;
    await Promise.all([1, 2, 3].map(() => fetch(url).then((r) => r.text())));
    const ids = new Set(sink.records.map((r) => r.request_id));
    assert.equal(ids.size, 3);
  });

  it("uses another request-id header when configured", async () => {
    const { res } = await call(() => new Response("ok"), {
      headers: { "x-correlation-id": "corr-1" },
    }, { requestIdHeader: "x-correlation-id" });
    assert.equal(res.headers.get("x-correlation-id"), "corr-1");
  });

  it("sets the id on a response with immutable headers", async () => {
    const { res } = await call(
      () => fetch("data:text/plain,upstream"),
      {},
    );
    assert.match(res.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/);
  });

  it("includes the fields other middleware added (auth identity)", async () => {
    const auth: Middleware = (req, next) => {
      addLogFields({ user_id: "u-7", auth_method: "api_key" });
      return next(req);
    };
    const { records } = await call(
      () => {
        logger().info("in handler");
        return new Response("ok");
      },
      {},
      {},
      [auth],
    );
    const [handler, line] = records;
    assert.equal(line.user_id, "u-7");
    assert.equal(line.auth_method, "api_key");
    assert.equal(handler.user_id, "u-7", "the request logger sees them too");
  });

  it("binds logger() to the request inside it", async () => {
    const { records } = await call(async () => {
      await new Promise((r) => setTimeout(r, 1));
      logger().child({ step: "load" }).debug("loading");
      return new Response("ok");
    });
    const [inner, line] = records;
    assert.equal(inner.message, "loading");
    assert.equal(inner.step, "load");
    assert.equal(inner.service_name, "web");
    assert.equal(inner.request_id, line.request_id);
  });

  it("writes a debug line at the start when asked to", async () => {
    const { records } = await call(() => new Response("ok"), {
      path: "/a?b=c",
    }, { logStart: true });
    const [start, end] = records;
    assert.equal(start.message, "request started");
    assert.equal(start.level, "debug");
    assert.equal(start.path, "/a");
    assert.equal(start.method, "GET");
    assert.equal(start.request_id, end.request_id);
  });

  it("logs an escaping error as a 500 and rethrows it", async () => {
    const { res, records } = await call(() => {
      throw new Error("kaboom", { cause: new Error("root cause") });
    });
    assert.equal(res.status, 500);
    const [line] = records;
    assert.equal(line.message, "request failed");
    assert.equal(line.level, "error");
    assert.equal(line.status, 500);
    const error = line.error as {
      message: string;
      cause: Array<{ message: string }>;
    };
    assert.equal(error.message, "kaboom");
    assert.equal(error.cause[0].message, "root cause");
  });

  it("logs the mapped status when recovery is inside it", async () => {
    const { res, records } = await call(
      () => {
        throw notFound("order", 9);
      },
      {},
      {},
      [recovery()],
    );
    assert.equal(res.status, 404);
    assert.equal(access(records)[0].status, 404);
    assert.equal(access(records)[0].level, "warn");
  });

  it("logs a client that hangs up mid-body (499, canceled) at info", async () => {
    let line!: (record: Record<string, unknown>) => void;
    const written = new Promise<Record<string, unknown>>((resolve) =>
      line = resolve
    );
    const lines: Record<string, unknown>[] = [];
    const output = {
      write: (text: string) => {
        const record = JSON.parse(text);
        lines.push(record);
        if (record.message === "request completed") line(record);
      },
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    let started!: () => void;
    const reading = new Promise<void>((resolve) => started = resolve);
    await using server = serve(
      applyMiddleware(
        router({
          "POST /orders": async (req) => {
            started();
            return Response.json(await readJson(req));
          },
        }),
        accessLog({ logger: createLogger({ output }) }),
        recovery(),
      ),
      { port: 0, hostname: "127.0.0.1", handleSignals: false },
    );
    await hangUpMidBody(server.addr.port, reading);
    const record = await written;
    assert.equal(record.status, 499);
    assert.equal(record.route, "/orders");
    assert.equal(record.level, "info");
    assert.deepEqual(lines.map((r) => r.level), ["info"]);
  });

  it("writes remote_addr when told how to find it", async () => {
    const { records } = await call(() => new Response("ok"), {
      headers: { "x-forwarded-for": "203.0.113.9" },
    }, {
      remoteAddr: (req) => req.headers.get("x-forwarded-for") ?? undefined,
    });
    assert.equal(access(records)[0].remote_addr, "203.0.113.9");
  });

  it("measures duration_ms with the given clock", async () => {
    let t = 1000;
    const { records } = await call(
      () => {
        t += 12.3456;
        return new Response("ok");
      },
      {},
      { clock: { now: () => t, sleep: () => Promise.resolve() } },
    );
    assert.equal(access(records)[0].duration_ms, 12.346);
  });

  it("writes the trace ids of a span opened outside it", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const tracing: Middleware = (req, next) =>
      context.with(
        trace.setSpan(
          context.active(),
          trace.wrapSpanContext({
            traceId,
            spanId: "00f067aa0ba902b7",
            traceFlags: 1,
          }),
        ),
        () => next(req),
      );
    const sink = memorySink();
    const handler = applyMiddleware(
      () => {
        logger().info("inside");
        return new Response("ok");
      },
      tracing,
      accessLog({ logger: createLogger({ output: sink }) }),
    );
    await handler(new Request("http://localhost/"));
    for (const record of sink.records) assert.equal(record.trace_id, traceId);
  });

  it("leaves content-length-less bodies without response_bytes", async () => {
    const { records } = await call(() =>
      new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode("streamed"));
            c.close();
          },
        }),
      )
    );
    assert.equal(access(records)[0].response_bytes, undefined);
  });

  it("rejects bad options, naming them", () => {
    for (
      const [options, name] of [
        [{ requestIdHeader: "" }, /requestIdHeader/],
        [{ clock: 5 }, /clock/],
        [{ remoteAddr: "x" }, /remoteAddr/],
      ] as const
    ) {
      assert.throws(
        () => accessLog(options as unknown as AccessLogOptions),
        (e) => e instanceof TypeError && name.test(e.message),
      );
    }
  });
});
