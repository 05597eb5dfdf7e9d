import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect } from "node:net";
import { once } from "node:events";
import { group, router } from "@cqi/http";
import { memorySink } from "@cqi/logging";
import { bootstrap } from "./mod.ts";

const KEY = "bootstrap-run-key-0123456789";

function app(environment = "production", apiKeys = [{ id: "t", key: KEY }]) {
  const sink = memorySink();
  const svc = bootstrap({
    service: { name: "svc", environment },
    metrics: { enabled: true },
    auth: { apiKeys },
    server: { host: "127.0.0.1", port: 0, shutdownTimeout: 1_000 },
  }, { logOutput: sink, setDefaultLogger: false, defaultMetrics: false });
  return { svc, sink };
}

describe("bootstrap's auth, routes and run", () => {
  it("serves behind the stack, guards only the group, stops on the signal with exit 0", async () => {
    const { svc, sink } = app();
    const stop = new AbortController();
    const handler = router({
      ...svc.routes(),
      ...group("/api", [svc.auth()], {
        "GET /hello/:name": (_req, { name }) => Response.json({ name }),
      }),
    });
    let listening!: (url: string) => void;
    const heard = new Promise<string>((resolve) => listening = resolve);
    const exited = svc.run(handler, {
      signal: stop.signal,
      onListen: ({ port }) => listening(`http://127.0.0.1:${port}/`),
    });
    const url = await heard;
    const refused = await fetch(`${url}api/hello/x`);
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    const ok = await fetch(`${url}api/hello/x`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    assert.deepEqual(await ok.json(), { name: "x" });
    const ready = await fetch(`${url}health/ready`);
    assert.equal(ready.status, 200);
    await ready.body?.cancel();
    const metrics = await (await fetch(`${url}metrics`)).text();
    assert.match(
      metrics,
      /svc_http_request_count_total\{[^}]*path="\/api\/hello\/:name"[^}]*status_code="401"/,
    );
    stop.abort();
    assert.equal(await exited, 0);
    const messages = sink.records.map((r) => r.message);
    const access = sink.records.filter((r) =>
      r.message === "request completed"
    );
    assert.deepEqual(access.map((r) => r.status), [401, 200, 200, 200]);
    assert.equal(access[1].route, "/api/hello/:name");
    assert.deepEqual(messages.slice(-2), ["stopped", "runner: stopped"]);
  });

  it("serves rpc routes beside the handler, without the HTTP stack", async () => {
    const { svc, sink } = app();
    const stop = new AbortController();
    let listening!: (url: string) => void;
    const heard = new Promise<string>((resolve) => listening = resolve);
    const exited = svc.run(router({ "GET /hello": () => new Response("hi") }), {
      signal: stop.signal,
      rpc: { "POST /pkg.Service/*": () => Response.json({ rpc: true }) },
      onListen: ({ port }) => listening(`http://127.0.0.1:${port}/`),
    });
    const url = await heard;
    const rpc = await fetch(`${url}pkg.Service/Get`, { method: "POST" });
    assert.deepEqual(await rpc.json(), { rpc: true });
    const hello = await fetch(`${url}hello`);
    assert.equal(await hello.text(), "hi");
    const other = await fetch(`${url}pkg.Other/Get`, { method: "POST" });
    assert.equal(other.status, 404); // the handler's, behind the stack
    await other.body?.cancel();
    stop.abort();
    assert.equal(await exited, 0);
    const routes = sink.records
      .filter((r) => r.message === "request completed")
      .map((r) => `${r.method} ${r.status}`);
    assert.deepEqual(routes, ["GET 200", "POST 404"]); // no line for the rpc
  });

  it("closes each connection after its response during the drain delay", async () => {
    // Clients leave their kept-alive connections while the server still
    // serves, so none is idle when the listener closes (a reset).
    const sink = memorySink();
    const svc = bootstrap({
      service: { name: "svc", environment: "development" },
      server: {
        host: "127.0.0.1",
        port: 0,
        shutdownDelay: 500,
        shutdownTimeout: 1_000,
      },
    }, { logOutput: sink, setDefaultLogger: false, defaultMetrics: false });
    const stop = new AbortController();
    let listening!: (port: number) => void;
    const heard = new Promise<number>((resolve) => listening = resolve);
    const exited = svc.run(router({ "GET /x": () => new Response("ok") }), {
      signal: stop.signal,
      onListen: ({ port }) => listening(port),
    });
    const port = await heard;
    const socket = connect({ host: "127.0.0.1", port });
    await once(socket, "connect");
    socket.setEncoding("utf8");
    let answer = "";
    socket.on("data", (chunk) => answer += chunk);
    const get = async () => {
      answer = "";
      socket.write("GET /x HTTP/1.1\r\nhost: x\r\n\r\n");
      while (!answer.endsWith("ok")) await once(socket, "data");
      return answer;
    };
    assert.doesNotMatch(await get(), /connection: close/i);
    stop.abort();
    // the delay begins once run has seen the signal (a few turns)
    while (!svc.health.shuttingDown) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const during = await get();
    assert.match(during, /^HTTP\/1\.1 200/, during);
    assert.match(during, /\r\nconnection: close\r\n/i, during);
    socket.destroy();
    assert.equal(await exited, 0);
  });

  it("auth: refuses to start open outside development, generates a key in it", () => {
    assert.throws(() => app("production", []).svc.auth(), /no API keys or JWT/);
    const { svc, sink } = app("development", []);
    const printed: unknown[] = [];
    const original = console.error;
    console.error = (line: unknown) => void printed.push(line);
    try {
      assert.equal(typeof svc.auth(), "function");
    } finally {
      console.error = original;
    }
    assert.match(String(printed[0]), /^development API key: \S{20,}$/);
    assert.ok(sink.records.some((r) => r.level === "warn"));
  });
});
