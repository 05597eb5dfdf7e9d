import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { once } from "node:events";
import { applyMiddleware, router, serve } from "@cqi/http";
import { apiKey } from "./mod.ts";

// Sends a request line exactly as written (fetch would resolve the dots).
async function rawGet(
  port: number,
  target: string,
  host = "x",
): Promise<number> {
  const socket = connect({ host: "127.0.0.1", port });
  await once(socket, "connect");
  socket.write(
    `GET ${target} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`,
  );
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk) => text += chunk);
  await once(socket, "end");
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
}

describe("exclusions and dot segments", () => {
  it("never lets /health/../admin past auth, whatever the runtime passes on", async () => {
    const app = router({
      "GET /admin/users": () => new Response("SECRET"),
      "GET /health/live": () => new Response("ok"),
    });
    const handler = applyMiddleware(
      app,
      apiKey({
        keys: [{ id: "k1", key: "k-1234567890", serviceId: "svc" }],
        exclude: ["/health/*"],
      }),
    );
    await using server = serve(handler, {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
    });
    const port = server.addr.port;
    assert.equal(
      await rawGet(port, "/health/live"),
      200,
      "excluded path stays open",
    );
    for (
      const target of [
        "/health/../admin/users",
        "/health/./../admin/users",
        "/health/%2e%2e/admin/users",
      ]
    ) {
      const status = await rawGet(port, target);
      assert.notEqual(status, 200, `${target} answered 200`);
    }
  });

  it("never lets a Host header move the path the router sees (plain Deno.serve / Bun.serve)", async () => {
    const app = router({
      "GET /": () => new Response("ROOT SECRET"),
      "GET /files/*": () => new Response("FILE SECRET"),
      "GET /health/live": () => new Response("ok"),
    });
    const handler = applyMiddleware(
      app,
      apiKey({
        keys: [{ id: "k1", key: "k-1234567890" }],
        exclude: ["/health/*"],
      }),
    );
    // The runtime's own server, without serve()'s Host check: the router
    // and the exclusions must still agree on where the path starts.
    const bun = (globalThis as {
      Bun?: { serve(o: unknown): { port: number; stop(): Promise<void> } };
    }).Bun;
    let port: number;
    let stop: () => Promise<void>;
    if (bun !== undefined) {
      const server = bun.serve({
        port: 0,
        hostname: "127.0.0.1",
        fetch: handler,
      });
      port = server.port;
      stop = () => server.stop();
    } else {
      const server = Deno.serve({
        port: 0,
        hostname: "127.0.0.1",
        onListen() {},
      }, handler);
      port = server.addr.port;
      stop = () => server.shutdown();
    }
    try {
      for (const host of ["h?x", "h#x", "h\\files"]) {
        const status = await rawGet(port, "/health/%7e", host);
        assert.notEqual(status, 200, `Host: ${host} answered 200`);
      }
      assert.equal(await rawGet(port, "/health/live"), 200);
    } finally {
      await stop();
    }
  });
});
