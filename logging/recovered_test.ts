import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyMiddleware, router, serve } from "@cqi/http";
import {
  canceled,
  invalidInput,
  readJson,
  recovery,
  temporary,
  wrap,
} from "@cqi/errors";
import { hangUpMidBody } from "../tests/_raw_client.ts";
import { accessLog, createLogger, logRecovered, memorySink } from "./mod.ts";

describe("logRecovered", () => {
  it("logs a recovered error with its whole cause chain, never sent to the client", async () => {
    const sink = memorySink();
    const secret = "password=hunter2 in a driver message";
    const handler = applyMiddleware(
      router({
        "GET /prices/:symbol": () => {
          throw wrap(
            temporary("prices unavailable", { cause: new Error(secret) }),
            "fetching prices",
          );
        },
      }),
      // accessLog opens the request scope in which the router records routes
      accessLog({ logger: createLogger({ output: memorySink() }) }),
      recovery({
        onError: logRecovered({ logger: createLogger({ output: sink }) }),
      }),
    );
    await using server = serve(handler, {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
    });
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/prices/BTC`);
    const body = await res.text();
    assert.equal(res.status, 503);
    assert.ok(!body.includes(secret));
    const [record] = sink.records;
    assert.equal(record.level, "error");
    assert.equal(record.message, "request error");
    assert.equal(record.status, 503);
    assert.equal(record.method, "GET");
    assert.equal(record.route, "/prices/:symbol");
    const error = record.error as {
      message: string;
      code: string;
      cause: Array<{ message: string }>;
    };
    assert.equal(error.message, "fetching prices");
    assert.equal(error.code, "UNAVAILABLE");
    assert.deepEqual(error.cause.map((c) => c.message), [
      "prices unavailable",
      secret,
    ]);
  });

  it("logs a 4xx at warn, with the path when no route is known", async () => {
    const sink = memorySink();
    const handler = applyMiddleware(
      () => {
        throw invalidInput("bad quantity");
      },
      recovery({
        onError: logRecovered({ logger: createLogger({ output: sink }) }),
      }),
    );
    const res = await handler(new Request("http://localhost/orders?q=1"));
    assert.equal(res.status, 400);
    assert.equal(sink.records[0].level, "warn");
    assert.equal(sink.records[0].route, "/orders");
  });

  it("cuts a 60 KB path where no route matched, for errors and hang-ups alike", async () => {
    const sink = memorySink();
    const path = "/" + "a".repeat(59_999);
    const handler = applyMiddleware(
      (req) => {
        throw new URL(req.url).searchParams.has("gone")
          ? canceled("client went away")
          : invalidInput("bad path");
      },
      recovery({
        onError: logRecovered({ logger: createLogger({ output: sink }) }),
      }),
    );
    for (const query of ["", "?gone"]) {
      await handler(new Request(`http://localhost${path}${query}`));
    }
    assert.deepEqual(
      sink.records.map((r) => [r.level, r.message, r.status]),
      [["warn", "request error", 400], ["info", "request canceled", 499]],
    );
    for (const [i, line] of sink.lines.entries()) {
      assert.ok(line.length < 4_096, `line ${i} bounded, got ${line.length}`);
      const record = sink.records[i];
      assert.equal(record.route, path.slice(0, 2047) + "…");
      assert.equal(record.route_length, 60_000);
      assert.equal(record.method, "GET");
      assert.equal(record.method_length, undefined);
    }
  });

  it("logs a client that hangs up mid-body at info, as request canceled, without the error", async () => {
    const sink = memorySink();
    const log = logRecovered({ logger: createLogger({ output: sink }) });
    let started!: () => void;
    const reading = new Promise<void>((resolve) => started = resolve);
    let logged!: () => void;
    const done = new Promise<void>((resolve) => logged = resolve);
    const handler = applyMiddleware(
      router({
        "POST /orders": async (req) => {
          started();
          return Response.json(await readJson(req));
        },
      }),
      accessLog({ logger: createLogger({ output: memorySink() }) }),
      recovery({
        onError: (recovered) => {
          log(recovered);
          logged();
        },
      }),
    );
    await using server = serve(handler, {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
    });
    await hangUpMidBody(server.addr.port, reading);
    await done;
    assert.deepEqual(
      sink.records.map(({ level, message, method, route, status, error }) => ({
        level,
        message,
        method,
        route,
        status,
        error,
      })),
      [{
        level: "info",
        message: "request canceled",
        method: "POST",
        route: "/orders",
        status: 499,
        error: undefined,
      }],
    );
  });

  it("logs a wrapped canceled error at info, without its cause", async () => {
    const sink = memorySink();
    const handler = applyMiddleware(
      () => {
        throw wrap(canceled("gone", { cause: new Error("reset") }), "read");
      },
      recovery({
        onError: logRecovered({ logger: createLogger({ output: sink }) }),
      }),
    );
    assert.equal((await handler(new Request("http://localhost/"))).status, 499);
    assert.equal(sink.records[0].level, "info");
    assert.equal(sink.records[0].message, "request canceled");
    assert.equal("error" in sink.records[0], false);
  });

  it("logs a thrown non-error", async () => {
    const sink = memorySink();
    const handler = applyMiddleware(
      () => Promise.reject(undefined),
      recovery({
        onError: logRecovered({ logger: createLogger({ output: sink }) }),
      }),
    );
    await handler(new Request("http://localhost/"));
    assert.deepEqual(sink.records[0].error, {
      type: "undefined",
      message: "undefined",
      cause: [],
    });
  });

  it("uses the request's logger by default, so the line has the request id", async () => {
    const sink = memorySink();
    const handler = applyMiddleware(
      () => {
        throw new Error("bug");
      },
      accessLog({ logger: createLogger({ output: sink }) }),
      recovery({ onError: logRecovered() }),
    );
    const res = await handler(new Request("http://localhost/"));
    assert.equal(res.status, 500);
    const [recovered, line] = sink.records;
    assert.equal(recovered.message, "request error");
    assert.equal(line.message, "request completed");
    assert.equal(recovered.request_id, res.headers.get("x-request-id"));
    assert.equal(line.request_id, recovered.request_id);
  });
});
