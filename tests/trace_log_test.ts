// Log lines and an incoming `traceparent` with tracing not initialised
// (issue 14 §4): `httpTracing` continues the caller's trace for what the
// handler calls, so every line keeps the caller's `trace_id`, but no line
// claims the caller's span as its own `span_id`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { trace } from "@opentelemetry/api";
import { applyMiddleware, serve } from "@cqi/http";
import { accessLog, createLogger, logger, memorySink } from "@cqi/logging";
import { httpTracing } from "@cqi/tracing";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";

describe("log lines under a caller's traceparent, tracing not initialised", () => {
  it("keep trace_id and write no span_id of the caller's", async () => {
    const lines = memorySink();
    const { promise: logged, resolve } = Promise.withResolvers<void>();
    const output = {
      write(line: string) {
        lines.write(line);
        if (line.includes('"request completed"')) resolve();
      },
      flush: () => lines.flush(),
      close: () => lines.close(),
    };
    const handler = applyMiddleware(
      () => {
        logger().info("inside");
        return Response.json({
          spanId: trace.getActiveSpan()?.spanContext().spanId,
        });
      },
      httpTracing(),
      accessLog({ logger: createLogger({ service: { name: "t" }, output }) }),
    );
    await using server = serve(handler, {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
    });
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/x`, {
      headers: { traceparent: `00-${TRACE}-${CALLER_SPAN}-01` },
    });
    assert.equal(res.status, 200);
    // The precondition: no tracer, so the active span is the caller's.
    assert.deepEqual(await res.json(), { spanId: CALLER_SPAN });
    await logged; // the access line is written once the response is done
    const records = lines.records;
    assert.deepEqual(records.map((r) => r.message), [
      "inside",
      "request completed",
    ]);
    for (const record of records) {
      assert.equal(record.trace_id, TRACE);
      assert.equal(record.span_id, undefined, JSON.stringify(record));
    }
  });
});
