import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyMiddleware, router, serve } from "@cqi/http";
import { createTracing, httpTracing, startSpan, tracedFetch } from "./mod.ts";

const local = { port: 0, hostname: "127.0.0.1", handleSignals: false };

describe("propagation across two real servers", () => {
  it("A calls B twice with tracedFetch: B's spans are children of A's client spans", async () => {
    await using tracing = createTracing({
      service: { name: "ab" },
      exporter: "memory",
      sampler: "always",
    });
    const received: string[] = [];
    await using b = serve(
      applyMiddleware(
        router({
          "GET /b/:n": (req) => {
            received.push(req.headers.get("traceparent") ?? "none");
            return new Response("b");
          },
        }),
        httpTracing(),
      ),
      local,
    );
    await using a = serve(
      applyMiddleware(
        router({
          "GET /a": async () => {
            for (const n of [1, 2]) {
              const res = await tracedFetch(
                `http://127.0.0.1:${b.addr.port}/b/${n}`,
                { headers: { "x-call": String(n) } },
              );
              await res.text();
            }
            return new Response("a");
          },
        }),
        httpTracing(),
      ),
      local,
    );
    const res = await fetch(`http://127.0.0.1:${a.addr.port}/a`);
    assert.equal(await res.text(), "a");

    const spans = tracing.spans();
    const serverA = spans.find((s) => s.name === "GET /a")!;
    const clients = spans.filter((s) => s.kind === "client");
    const serversB = spans.filter((s) => s.name === "GET /b/:n");
    assert.equal(clients.length, 2);
    assert.equal(serversB.length, 2);
    for (const s of spans) assert.equal(s.traceId, serverA.traceId);
    for (const [i, client] of clients.entries()) {
      assert.equal(client.parentSpanId, serverA.spanId);
      assert.equal(serversB[i].parentSpanId, client.spanId);
      assert.equal(
        received[i],
        `00-${serverA.traceId}-${client.spanId}-01`,
        "B received the client span as its parent",
      );
    }
    assert.notEqual(
      clients[0].spanId,
      clients[1].spanId,
      "own parent id per call",
    );
    const attributes = clients[0].attributes;
    assert.equal(clients[0].name, "GET");
    assert.equal(attributes["http.request.method"], "GET");
    assert.equal(attributes["server.address"], "127.0.0.1");
    assert.equal(attributes["server.port"], b.addr.port);
    assert.equal(attributes["url.full"], `http://127.0.0.1:${b.addr.port}/b/1`);
    assert.equal(attributes["http.response.status_code"], 200);
    assert.equal(clients[0].status.code, "unset");
  });
});

describe("tracedFetch", () => {
  it("keeps the caller's headers and works with a Request", async () => {
    await using tracing = createTracing({
      service: { name: "f" },
      exporter: "memory",
      sampler: "always",
    });
    await using server = serve(
      (req) =>
        Response.json([req.headers.get("x-a"), req.headers.get("traceparent")]),
      local,
    );
    const url = `http://127.0.0.1:${server.addr.port}/`;
    const [header, traceparent] = await startSpan(
      "caller",
      async () =>
        await (await tracedFetch(
          new Request(url, {
            method: "POST",
            body: "x",
            headers: { "x-a": "1" },
          }),
        )).json(),
    );
    assert.equal(header, "1");
    const client = tracing.spans().find((s) => s.kind === "client")!;
    assert.equal(client.name, "POST");
    assert.equal(traceparent, `00-${client.traceId}-${client.spanId}-01`);
    assert.equal(
      client.parentSpanId,
      tracing.spans().find((s) => s.name === "caller")!.spanId,
    );
  });

  it("marks 4xx and 5xx answers as errors", async () => {
    await using tracing = createTracing({
      service: { name: "f" },
      exporter: "memory",
      sampler: "always",
    });
    await using server = serve(
      (req) =>
        new Response(null, {
          status: Number(new URL(req.url).pathname.slice(1)),
        }),
      local,
    );
    for (const status of [404, 502]) {
      const res = await tracedFetch(
        `http://127.0.0.1:${server.addr.port}/${status}`,
        {
          method: "DELETE",
        },
      );
      assert.equal(res.status, status);
    }
    const [notFound, badGateway] = tracing.spans();
    assert.equal(notFound.status.code, "error");
    assert.equal(notFound.attributes["error.type"], "404");
    assert.equal(badGateway.attributes["http.response.status_code"], 502);
    assert.equal(badGateway.name, "DELETE");
  });

  it("records a network error and rethrows it; url.full never carries credentials", async () => {
    await using tracing = createTracing({
      service: { name: "f" },
      exporter: "memory",
      sampler: "always",
    });
    const closed = serve(() => new Response(), local);
    const port = closed.addr.port;
    await closed.shutdown();
    await assert.rejects(tracedFetch(`http://127.0.0.1:${port}/`));
    await assert.rejects(
      tracedFetch(`http://user:secret@127.0.0.1:${port}/x`),
      TypeError,
    );
    const [refused, withCredentials] = tracing.spans();
    assert.equal(refused.status.code, "error");
    assert.equal(refused.events[0].name, "exception");
    assert.equal(
      withCredentials.attributes["url.full"],
      `http://127.0.0.1:${port}/x`,
    );
    assert.equal(withCredentials.attributes["server.port"], port);
  });

  it("names an unknown method HTTP", async () => {
    await using tracing = createTracing({
      service: { name: "f" },
      exporter: "memory",
      sampler: "always",
    });
    await using server = serve(() => new Response("ok"), local);
    await (await tracedFetch(`http://127.0.0.1:${server.addr.port}/`, {
      method: "PURGE",
    })).text();
    const [span] = tracing.spans();
    assert.equal(span.name, "HTTP");
    assert.equal(span.attributes["http.request.method"], "_OTHER");
    assert.equal(span.attributes["http.request.method_original"], "PURGE");
    assert.equal(span.attributes["server.port"], server.addr.port);
  });
});
