import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { apiKey } from "@cqi/auth";
import { CqiError, kindOf } from "@cqi/errors";
import { createLogger, memorySink } from "@cqi/logging";
import { createRegistry } from "@cqi/metrics";
import { createTracing } from "@cqi/tracing";
import { grpcClientStack, grpcStack } from "./mod.ts";
import { PROTOCOLS } from "./testdata/clients.ts";
import { EchoService, Fault } from "../proto/gen/cqc/test/v1/echo_pb.ts";

const KEY = "s3cr3t-ops-key";
const SECRET = "hunter2-internal";

function stack() {
  const sink = memorySink();
  const logger = createLogger({ output: sink, level: "debug" });
  const registry = createRegistry({ namespace: "t", defaultMetrics: false });
  const interceptors = grpcStack({
    logger,
    registry,
    auth: apiKey({ keys: [{ id: "ops", key: KEY, serviceId: "ops-svc" }] }),
  });
  const lines = async () => {
    await logger.flush();
    return sink.records.filter((r) => r.message === "request completed");
  };
  return { sink, logger, registry, interceptors, lines };
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  assert.fail("expected the call to fail");
}

/** Everything about an error a client can see, as one string. */
function visible(error: unknown): string {
  const e = error as ConnectError;
  const metadata = [...(e.metadata?.entries() ?? [])].join(";");
  let cause = "";
  for (let c: unknown = e; c instanceof Error; c = c.cause) {
    cause += `${c.message}|${c.stack ?? ""}|`;
  }
  return `${String(e)}|${metadata}|${JSON.stringify(e.details)}|${cause}`;
}

for (const protocol of PROTOCOLS) {
  describe(`grpcStack over ${protocol.name}`, () => {
    it("refuses a call without credentials as UNAUTHENTICATED, no detail", async () => {
      const s = stack();
      await using server = await protocol.server(s.interceptors);
      const client = createClient(
        EchoService,
        protocol.transport(server.baseUrl),
      );
      const missing = await failure(client.echo({ text: "a" }));
      assert.ok(missing instanceof ConnectError);
      assert.equal(missing.code, Code.Unauthenticated);
      assert.equal(missing.rawMessage, "authentication required");
      const wrong = await failure(
        client.echo({ text: "a" }, {
          headers: { authorization: `Bearer ${KEY}x` },
        }),
      );
      assert.equal((wrong as ConnectError).code, Code.Unauthenticated);
      assert.equal((wrong as ConnectError).rawMessage, "invalid credentials");
      assert.ok(!visible(wrong).includes(KEY));
      assert.deepEqual(server.seen.callers, []); // the handler never ran
      const [line] = await s.lines();
      assert.equal(line.grpc_code, "UNAUTHENTICATED");
      assert.match(String(line.auth_error), /missing credentials/);
    });

    it("survives hostile authorization metadata", async () => {
      const s = stack();
      await using server = await protocol.server(s.interceptors);
      const client = createClient(
        EchoService,
        protocol.transport(server.baseUrl),
      );
      for (
        const authorization of [
          `Bearer ${"A".repeat(6000)}`,
          "Bearer \u00ff\u00fe",
          "Bearer  two  spaces",
          "Basic Zm9vOmJhcg==",
          "Bearer",
          ",,,,",
        ]
      ) {
        const error = await failure(
          client.echo({ text: "a" }, { headers: { authorization } }),
        );
        assert.equal((error as ConnectError).code, Code.Unauthenticated);
      }
      // the server still serves
      const ok = await client.echo({ text: "b" }, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      assert.equal(ok.text, "b");
    });

    it("gives the handler the caller through getAuthContext(), streams too", async () => {
      const s = stack();
      await using server = await protocol.server(s.interceptors);
      const client = createClient(
        EchoService,
        protocol.transport(server.baseUrl, grpcClientStack({ token: KEY })),
      );
      const res = await client.echo({ text: "hi" });
      assert.equal(res.text, "hi");
      assert.equal(res.caller, "ops");
      const got: number[] = [];
      for await (const m of client.count({ to: 3 })) got.push(m.n);
      assert.deepEqual(got, [1, 2, 3]);
      assert.deepEqual(server.seen.callers, ["ops", "ops", "ops", "ops"]);
      const lines = await s.lines();
      assert.equal(lines.length, 2);
      assert.equal(lines[0].key_id, "ops");
    });

    it("keeps each call's caller apart under concurrency", async () => {
      const sink = memorySink();
      const interceptors = grpcStack({
        logger: createLogger({ output: sink }),
        auth: apiKey({
          keys: [{ id: "a", key: `${KEY}-a` }, { id: "b", key: `${KEY}-b` }],
        }),
      });
      await using server = await protocol.server(interceptors);
      const clients = ["a", "b"].map((id) =>
        createClient(
          EchoService,
          protocol.transport(
            server.baseUrl,
            grpcClientStack({ token: `${KEY}-${id}` }),
          ),
        )
      );
      const calls = Array.from({ length: 20 }, async (_, i) => {
        const client = clients[i % 2];
        const want = i % 2 === 0 ? "a" : "b";
        if (i % 4 < 2) {
          assert.equal((await client.echo({ text: "x" })).caller, want);
        } else {
          for await (const _ of client.count({ to: 3 })) { /* drain */ }
        }
      });
      await Promise.all(calls);
      assert.equal(server.seen.callers.length, 10 + 10 * 3);
      const counts = { a: 0, b: 0 } as Record<string, number>;
      for (const c of server.seen.callers) counts[c ?? ""]++;
      assert.deepEqual(counts, { a: 20, b: 20 });
    });

    it("maps a thrown notFound to NOT_FOUND and back to a not_found CqiError", async () => {
      const s = stack();
      await using server = await protocol.server(s.interceptors);
      const raw = createClient(
        EchoService,
        protocol.transport(server.baseUrl, grpcClientStack({ token: KEY })),
      );
      const error = await failure(
        raw.echo({ fault: Fault.CQI, kind: "not_found", secret: SECRET }),
      );
      assert.ok(error instanceof CqiError);
      assert.equal(error.kind, "not_found");
      assert.equal(error.message, "public not_found");
      assert.equal((error as unknown as ConnectError).code, Code.NotFound);
      assert.ok(!visible(error).includes(SECRET));
      // rate_limited and too_large share RESOURCE_EXHAUSTED: the CQI code tells
      for (const kind of ["rate_limited", "too_large", "conflict"]) {
        const e = await failure(raw.echo({ fault: Fault.CQI, kind }));
        assert.equal(kindOf(e), kind);
      }
    });

    it("answers INTERNAL with no message, cause or stack of the server", async () => {
      const s = stack();
      await using server = await protocol.server(s.interceptors);
      const client = createClient(
        EchoService,
        protocol.transport(server.baseUrl, grpcClientStack({ token: KEY })),
      );
      for (const fault of [Fault.ERROR, Fault.NON_ERROR, Fault.PROXY]) {
        const error = await failure(client.echo({ fault, secret: SECRET }));
        assert.equal(kindOf(error), "permanent");
        assert.equal((error as CqiError).message, "internal error");
        assert.equal((error as unknown as ConnectError).code, Code.Internal);
        assert.ok(!visible(error).includes(SECRET), visible(error));
        assert.ok(!visible(error).includes("secret-proxy"));
      }
      await s.logger.flush();
      const logged = s.sink.records.filter((r) => r.message === "rpc error");
      assert.equal(logged.length, 3);
      assert.match(JSON.stringify(logged[0]), new RegExp(SECRET)); // the log keeps it
      const lines = await s.lines();
      assert.deepEqual(lines.map((l) => [l.grpc_code, l.level]), [
        ["INTERNAL", "error"],
        ["INTERNAL", "error"],
        ["INTERNAL", "error"],
      ]);
    });

    it("streams, and maps a failure in the middle of the stream", async () => {
      const s = stack();
      await using server = await protocol.server(s.interceptors);
      const client = createClient(
        EchoService,
        protocol.transport(server.baseUrl, grpcClientStack({ token: KEY })),
      );
      const got: number[] = [];
      const notFound = await failure((async () => {
        for await (
          const m of client.count({
            to: 5,
            failAfter: 2,
            fault: Fault.CQI,
            kind: "not_found",
          })
        ) got.push(m.n);
      })());
      assert.deepEqual(got, [1, 2]);
      assert.equal(kindOf(notFound), "not_found");
      const internal = await failure((async () => {
        for await (
          const _ of client.count({
            to: 5,
            failAfter: 1,
            fault: Fault.ERROR,
            secret: SECRET,
          })
        ) { /* drain */ }
      })());
      assert.equal((internal as unknown as ConnectError).code, Code.Internal);
      assert.ok(!visible(internal).includes(SECRET));
      const lines = await s.lines();
      assert.deepEqual(lines.map((l) => l.grpc_code), [
        "NOT_FOUND",
        "INTERNAL",
      ]);
      const text = await s.registry.metrics();
      assert.match(
        text,
        /t_grpc_call_count_total\{service="cqc.test.v1.EchoService",method="Count",code="NOT_FOUND"\} 1/,
      );
    });

    it("records metrics and one access line per call", async () => {
      const s = stack();
      await using server = await protocol.server(s.interceptors);
      const client = createClient(
        EchoService,
        protocol.transport(server.baseUrl, grpcClientStack({ token: KEY })),
      );
      await client.echo({ text: "a" });
      await client.echo({ text: "b" }, { headers: { "x-request-id": "rq-1" } });
      await failure(client.echo({ fault: Fault.CQI, kind: "not_found" }));
      const text = await s.registry.metrics();
      assert.match(
        text,
        /t_grpc_call_count_total\{service="cqc.test.v1.EchoService",method="Echo",code="OK"\} 2/,
      );
      assert.match(
        text,
        /t_grpc_call_count_total\{service="cqc.test.v1.EchoService",method="Echo",code="NOT_FOUND"\} 1/,
      );
      assert.match(
        text,
        /t_grpc_call_duration_seconds_count\{service="cqc.test.v1.EchoService",method="Echo",code="OK"\} 2/,
      );
      const lines = await s.lines();
      assert.equal(lines.length, 3);
      for (
        const field of [
          "request_id",
          "method",
          "route",
          "status",
          "duration_ms",
        ]
      ) {
        assert.ok(field in lines[0], field);
      }
      assert.equal(lines[0].route, "/cqc.test.v1.EchoService/Echo");
      assert.equal(lines[0].rpc_service, "cqc.test.v1.EchoService");
      assert.equal(lines[0].rpc_method, "Echo");
      assert.equal(lines[0].status, 200);
      assert.equal(lines[0].level, "info");
      assert.equal(lines[1].request_id, "rq-1");
      assert.equal(lines[2].status, 404);
      assert.equal(lines[2].level, "warn");
    });

    it("makes the server span a child of the client span", async () => {
      await using tracing = createTracing({
        service: { name: "grpc-test" },
        exporter: "memory",
        sampler: "always",
      });
      const s = stack();
      await using server = await protocol.server(s.interceptors);
      const client = createClient(
        EchoService,
        protocol.transport(server.baseUrl, grpcClientStack({ token: KEY })),
      );
      await client.echo({ text: "a" });
      await failure(client.echo({ fault: Fault.ERROR }));
      const spans = tracing.spans();
      const servers = spans.filter((x) => x.kind === "server");
      const clients = spans.filter((x) => x.kind === "client");
      assert.equal(servers.length, 2);
      assert.equal(clients.length, 2);
      for (const [i, span] of servers.entries()) {
        assert.equal(span.name, "cqc.test.v1.EchoService/Echo");
        assert.equal(span.traceId, clients[i].traceId);
        assert.equal(span.parentSpanId, clients[i].spanId);
        assert.equal(span.attributes["rpc.service"], "cqc.test.v1.EchoService");
        assert.equal(span.attributes["rpc.method"], "Echo");
      }
      assert.equal(
        servers[0].attributes["rpc.system"],
        protocol.name === "connect" ? "connect_rpc" : "grpc",
      );
      assert.equal(servers[0].status.code, "unset");
      assert.equal(servers[1].status.code, "error");
      assert.equal(clients[1].status.code, "error");
      assert.equal(clients[1].attributes["rpc.grpc.status_code"], 13);
      if (protocol.name === "connect") {
        assert.equal(
          servers[1].attributes["rpc.connect_rpc.error_code"],
          "internal",
        );
      } else assert.equal(servers[1].attributes["rpc.grpc.status_code"], 13);
    });

    it("ignores a malformed traceparent: a new trace, the call served", async () => {
      await using tracing = createTracing({
        service: { name: "grpc-test" },
        exporter: "memory",
        sampler: "always",
      });
      const s = stack();
      await using server = await protocol.server(s.interceptors);
      const client = createClient(
        EchoService,
        protocol.transport(server.baseUrl),
      );
      for (
        const traceparent of [
          "00-00000000000000000000000000000000-0000000000000000-01",
          "zz-" + "f".repeat(5000),
          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01,00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ]
      ) {
        const res = await client.echo({ text: "t" }, {
          headers: { traceparent, authorization: `Bearer ${KEY}` },
        });
        assert.equal(res.text, "t");
      }
      const servers = tracing.spans().filter((x) => x.kind === "server");
      assert.equal(servers.length, 3);
      for (const span of servers) assert.equal(span.parentSpanId, undefined);
    });

    it("passes a client's cancellation to the handler's signal", async () => {
      const s = stack();
      await using server = await protocol.server(s.interceptors);
      const hanging = new Promise<AbortSignal>((resolve) => {
        server.seen.hanging = resolve;
      });
      const client = createClient(
        EchoService,
        protocol.transport(server.baseUrl, grpcClientStack({ token: KEY })),
      );
      const controller = new AbortController();
      const got: number[] = [];
      const call = (async () => {
        for await (
          const m of client.count({ to: 5, hangAfter: 1 }, {
            signal: controller.signal,
          })
        ) got.push(m.n);
      })();
      const signal = await hanging;
      controller.abort();
      const error = await failure(call);
      // Connect raises the caller's own abort outside the interceptors: a
      // ConnectError CANCELLED, not a CqiError (see README).
      assert.equal((error as ConnectError).code, Code.Canceled);
      if (!signal.aborted) {
        await new Promise((resolve) =>
          signal.addEventListener("abort", resolve, { once: true })
        );
      }
      assert.equal(signal.aborted, true);
      assert.ok(got.length <= 1); // the first message may still be in flight
    });
  });
}
