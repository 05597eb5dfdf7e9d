// grpcClientStack against servers that fail: red-team defects D9 and D12.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, type ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-web";
import { CqiError, kindOf } from "@cqi/errors";
import { serve } from "@cqi/http";
import { createLogger, memorySink } from "@cqi/logging";
import { connectHandler, grpcClientStack, grpcStack } from "./mod.ts";
import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";

const local = {
  port: 0,
  hostname: "127.0.0.1",
  handleSignals: false,
  onListen: () => {},
};

// A port nothing listens on: a server's, once it has shut down.
async function closedPort(): Promise<number> {
  const server = serve(() => new Response(), local);
  const port = server.addr.port;
  await server.shutdown();
  return port;
}

const TRANSPORTS = [
  ["Connect", createConnectTransport],
  ["gRPC-Web", createGrpcWebTransport],
] as const;

describe("grpcClientStack failures", () => {
  it("D9: a refused connection is a temporary CqiError (unary and stream)", async () => {
    const port = await closedPort();
    for (const [name, transport] of TRANSPORTS) {
      const client = createClient(
        EchoService,
        transport({
          baseUrl: `http://127.0.0.1:${port}`,
          interceptors: grpcClientStack(),
        }),
      );
      const unary = await client.echo({}).catch((e) => e);
      const stream = await (async () => {
        for await (const _ of client.count({ to: 1 })) { /* none */ }
      })().catch((e) => e);
      for (const e of [unary, stream]) {
        assert.ok(e instanceof CqiError, `${name}: ${e}`);
        assert.equal(kindOf(e), "temporary", name);
        assert.equal((e as unknown as ConnectError).code, Code.Unavailable);
      }
    }
  });

  it("D9: a 200 body that is no answer is a permanent CqiError naming the method", async () => {
    await using server = serve(
      () =>
        new Response("{not json", {
          headers: { "content-type": "application/json" },
        }),
      local,
    );
    const client = createClient(
      EchoService,
      createConnectTransport({
        baseUrl: `http://127.0.0.1:${server.addr.port}`,
        interceptors: grpcClientStack(),
      }),
    );
    const e = await client.echo({}).catch((e) => e);
    assert.ok(e instanceof CqiError);
    assert.equal(kindOf(e), "permanent");
    assert.match(e.message, /cqc\.test\.v1\.EchoService\/Echo/);
  });

  it("D9 (documented): the caller's own abort stays Connect's CANCELLED ConnectError", async () => {
    const port = await closedPort();
    const client = createClient(
      EchoService,
      createConnectTransport({
        baseUrl: `http://127.0.0.1:${port}`,
        interceptors: grpcClientStack(),
      }),
    );
    const e = await client.echo({}, { signal: AbortSignal.abort() }).catch((
      e,
    ) => e);
    assert.equal((e as ConnectError).code, Code.Canceled);
    assert.ok(!(e instanceof CqiError));
  });

  it("D12: refuses a token that is no header value, without echoing it", async () => {
    for (
      const token of [
        "SECRET-TOKEN\n",
        "SECRET-TOKEN\r\nx-evil: 1",
        " SECRET-TOKEN",
        "SECRET-TOKEN-\u0100",
        "",
      ]
    ) {
      assert.throws(() => grpcClientStack({ token }), (e: unknown) => {
        assert.ok(e instanceof TypeError);
        assert.ok(!e.message.includes("SECRET"));
        return true;
      });
    }
    assert.equal(grpcClientStack({ token: "a b.c-1" }).length, 3);
    // a token function's bad value fails the call, not echoing it either
    const client = createClient(
      EchoService,
      createConnectTransport({
        baseUrl: "http://127.0.0.1:9",
        interceptors: grpcClientStack({ token: () => "SECRET-TOKEN\r\n" }),
      }),
    );
    const e = await client.echo({}).catch((e) => e);
    assert.ok(e instanceof CqiError);
    assert.equal(kindOf(e), "permanent");
    const cause = e.cause as Error | undefined;
    const text = `${e.message} ${cause?.message} ${
      (cause?.cause as Error | undefined)?.message
    }`;
    assert.ok(!text.includes("SECRET"), text);
  });

  it("D1: a downstream's response headers do not reach the external client", async () => {
    // B: a service that fails with its own headers.
    await using b = serve(
      () =>
        new Response(
          JSON.stringify({ code: "not_found", message: "no user" }),
          {
            status: 404,
            headers: {
              "content-type": "application/json",
              "set-cookie": "b-session=downstream-secret",
              "x-b-internal": "db-7.internal",
            },
          },
        ),
      local,
    );
    const downstream = createClient(
      EchoService,
      createConnectTransport({
        baseUrl: `http://127.0.0.1:${b.addr.port}`,
        interceptors: grpcClientStack(),
      }),
    );
    // A: calls B and lets its failure propagate.
    await using a = serve(
      connectHandler((router) =>
        router.service(EchoService, {
          echo: (req) => downstream.echo(req),
          async *count() {},
        }), {
        interceptors: grpcStack({
          logger: createLogger({ output: memorySink() }),
        }),
      }),
      local,
    );
    for (const type of ["application/json", "application/grpc-web+json"]) {
      const res = await fetch(
        `http://127.0.0.1:${a.addr.port}/cqc.test.v1.EchoService/Echo`,
        {
          method: "POST",
          headers: { "content-type": type },
          body: type === "application/json"
            ? "{}"
            : new Uint8Array([0, 0, 0, 0, 2, 0x7b, 0x7d]),
        },
      );
      const body = new TextDecoder("latin1").decode(await res.arrayBuffer());
      const all = `${[...res.headers].join("\n")}\n${body}`;
      assert.ok(!all.includes("downstream-secret"), all);
      assert.ok(!all.includes("db-7"), all);
      assert.match(all, /not_found|grpc-status: 5/);
    }
  });
});
