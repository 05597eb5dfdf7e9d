// CQI under Deno's built-in OpenTelemetry (OTEL_DENO=true): one server span
// per request (Deno's, named by CQI), and the middleware, the log line and
// the propagated headers all carry Deno's trace ids. Deno's exporter is
// pointed at an OTLP/HTTP JSON receiver in this test to observe its spans.
// The child is always Deno, so this runs under `bun test` too.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serve } from "@cqi/http";
import { spawnScript } from "../tests/_util.ts";
import { httpReceiver } from "./testdata/otlp_receiver.ts";

const T = "4bf92f3577b34da6a3ce929d0e0e4736";
const P = "00f067aa0ba902b7";

describe("with Deno's built-in OpenTelemetry", () => {
  it("joins Deno's server span instead of starting a second one", async () => {
    await using receiver = httpReceiver();
    const downstreamHeaders: Array<string | null> = [];
    await using downstream = serve((req) => {
      downstreamHeaders.push(req.headers.get("traceparent"));
      return new Response("ok");
    }, { port: 0, hostname: "127.0.0.1", handleSignals: false });
    const child = spawnScript(
      new URL("./testdata/deno_otel_server.ts", import.meta.url),
      {
        runtime: "deno",
        args: [`http://127.0.0.1:${downstream.addr.port}/`],
        env: {
          OTEL_DENO: "true",
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_SERVICE_NAME: "deno-otel-test",
          OTEL_DENO_CONSOLE: "ignore",
        },
      },
    );
    try {
      const started = JSON.parse(await child.line((l) => l.includes('"mode"')));
      assert.equal(started.mode, "deno");

      const res = await fetch(`http://127.0.0.1:${started.port}/hello/ada`, {
        headers: { traceparent: `00-${T}-${P}-01` },
      });
      assert.equal(await res.text(), "hello ada");
      const [, traceId, serverSpanId] = res.headers.get("traceparent")!.split(
        "-",
      );
      assert.equal(traceId, T, "the response continues the caller's trace");

      const log = JSON.parse(await child.line((l) => l.includes("trace_id")));
      assert.deepEqual(
        log,
        { trace_id: T, span_id: serverSpanId },
        "the log line sees the same span",
      );

      assert.equal(downstreamHeaders.length, 1);
      const outgoing = downstreamHeaders[0]!;
      assert.ok(
        !outgoing.includes(","),
        `one traceparent, not two: ${outgoing}`,
      );
      const [, outTrace, outParent] = outgoing.split("-");
      assert.equal(outTrace, T);

      child.signal("SIGTERM");
      assert.equal(await child.exited, 0);
      // Deno exports at exit: wait for the three spans of this trace.
      const spans = await receiver.waitForSpans(3, (s) => s.traceId === T);
      const servers = spans.filter((s) => s.kind === 2);
      assert.equal(servers.length, 1, "one server span per request, not two");
      const [server] = servers;
      assert.equal(server.spanId, serverSpanId);
      assert.equal(server.parentSpanId, P);
      assert.equal(server.name, "GET /hello/:name");
      assert.equal(server.attributes["http.route"], "/hello/:name");
      assert.equal(server.resource["service.name"], "deno-otel-test");
      const greet = spans.find((s) => s.name === "greet")!;
      assert.equal(greet.parentSpanId, server.spanId);
      const client = spans.find((s) => s.kind === 3)!;
      assert.equal(client.parentSpanId, greet.spanId);
      assert.equal(
        client.spanId,
        outParent,
        "downstream's parent is Deno's client span",
      );
    } finally {
      child.signal("SIGKILL");
      await child.exited;
    }
  });
});
