// The example service under Deno's built-in OpenTelemetry (OTEL_DENO=true):
// CQI starts no tracer of its own; each request has one server span, Deno's,
// named by the route pattern, and the access-log line and the response's
// traceparent carry its ids. The child is always Deno, so this runs under
// `bun test` too.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnScript } from "../_util.ts";
import { httpReceiver } from "../../tracing/testdata/otlp_receiver.ts";

const MAIN = new URL("../../examples/quickstart/main.ts", import.meta.url);
const KEY = "e2e-deno-otel-key-0123456789abcdef0123456789";
const T = "4bf92f3577b34da6a3ce929d0e0e4736";
const P = "00f067aa0ba902b7";

describe("quickstart under OTEL_DENO=true (issue 9)", () => {
  it("has one server span per request, Deno's, named by the route", {
    timeout: 60_000,
  }, async () => {
    await using receiver = httpReceiver();
    const child = spawnScript(MAIN, {
      runtime: "deno",
      env: {
        PORT: "0",
        CQI_AUTH_API_KEYS: `e2e:${KEY}`,
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_SERVICE_NAME: "quickstart",
        OTEL_DENO_CONSOLE: "ignore",
      },
    });
    try {
      const listening = JSON.parse(
        await child.line((l) => l.includes('"listening"'), 30_000),
      );
      const base = `http://127.0.0.1:${new URL(listening.url).port}`;
      const res = await fetch(`${base}/api/positions/p9`, {
        headers: {
          authorization: `Bearer ${KEY}`,
          traceparent: `00-${T}-${P}-01`,
        },
      });
      assert.equal(res.status, 404);
      await res.body?.cancel();
      const [, traceId, spanId] = (res.headers.get("traceparent") ?? "")
        .split("-");
      assert.equal(traceId, T, "the response continues the caller's trace");

      const access = JSON.parse(
        await child.line((l) => l.includes('"request completed"')),
      );
      assert.equal(access.route, "/api/positions/:id");
      assert.equal(access.trace_id, T);
      assert.equal(access.span_id, spanId, "the log line sees Deno's span");

      child.signal("SIGTERM");
      assert.equal(await child.exited, 0);
      // Deno exports at exit.
      const spans = await receiver.waitForSpans(1, (s) => s.traceId === T);
      const servers = spans.filter((s) => s.kind === 2);
      assert.equal(servers.length, 1, "one server span, not two");
      const [server] = servers;
      assert.equal(server.spanId, spanId);
      assert.equal(server.parentSpanId, P);
      assert.equal(server.name, "GET /api/positions/:id");
      assert.equal(server.attributes["http.route"], "/api/positions/:id");
      assert.equal(server.resource["service.name"], "quickstart");
    } finally {
      child.signal("SIGKILL");
      await child.exited;
    }
  });
});
