import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { trace } from "@opentelemetry/api";
import { addEvent, createTracing, extract, startSpan } from "./mod.ts";

const T = "4bf92f3577b34da6a3ce929d0e0e4736";
const P = "00f067aa0ba902b7";

function memory() {
  return createTracing({
    service: { name: "span-test" },
    exporter: "memory",
    sampler: "always",
  });
}

describe("startSpan", () => {
  it("runs fn in a child span that is active across awaits and timers", async () => {
    await using tracing = memory();
    const result = await startSpan("outer", async (outer) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      assert.equal(
        trace.getActiveSpan()?.spanContext().spanId,
        outer.spanContext().spanId,
      );
      return startSpan("inner", () => "done");
    }, { "job.id": 7 });
    assert.equal(result, "done");
    const [inner, outer] = tracing.spans();
    assert.equal(inner.name, "inner");
    assert.equal(inner.parentSpanId, outer.spanId);
    assert.equal(inner.traceId, outer.traceId);
    assert.equal(outer.parentSpanId, undefined);
    assert.equal(outer.attributes["job.id"], 7);
    assert.equal(outer.kind, "internal");
    assert.equal(outer.status.code, "unset");
    assert.ok(outer.duration >= 0.5, `duration ${outer.duration}`);
  });

  it("ends a synchronous span on return", async () => {
    await using tracing = memory();
    const value = startSpan("sync", () => 42);
    assert.equal(value, 42);
    assert.equal(tracing.spans().length, 1);
  });

  it("records a synchronous throw and rethrows it unchanged", async () => {
    await using tracing = memory();
    const error = new RangeError("out of range");
    assert.throws(() =>
      startSpan("sync.fail", () => {
        throw error;
      }), (e) => e === error);
    const [span] = tracing.spans();
    assert.equal(span.status.code, "error");
    assert.equal(span.status.message, "out of range");
    assert.equal(span.attributes["error.type"], "RangeError");
    assert.equal(span.events[0].name, "exception");
    assert.equal(span.events[0].attributes["exception.type"], "RangeError");
    assert.equal(
      span.events[0].attributes["exception.message"],
      "out of range",
    );
    assert.match(
      String(span.events[0].attributes["exception.stacktrace"]),
      /RangeError/,
    );
  });

  it("records a rejection and rethrows it unchanged", async () => {
    await using tracing = memory();
    const error = new Error("db down");
    await assert.rejects(
      startSpan("async.fail", async () => {
        await Promise.resolve();
        throw error;
      }),
      (e) => e === error,
    );
    const [span] = tracing.spans();
    assert.equal(span.name, "async.fail");
    assert.equal(span.status.code, "error");
    assert.equal(span.events.length, 1);
  });

  it("records a thrown non-Error", async () => {
    await using tracing = memory();
    await assert.rejects(
      startSpan("odd", () => Promise.reject("just a string")),
    );
    const [span] = tracing.spans();
    assert.equal(span.status.message, "just a string");
    assert.equal(span.attributes["error.type"], "string");
  });

  it("takes a kind and a parent context, for message consumers", async () => {
    await using tracing = memory();
    startSpan("orders process", () => {}, { "messaging.system": "kafka" }, {
      kind: "consumer",
      parent: extract({ traceparent: `00-${T}-${P}-01` }),
    });
    const [span] = tracing.spans();
    assert.equal(span.kind, "consumer");
    assert.equal(span.traceId, T);
    assert.equal(span.parentSpanId, P);
  });

  it("without createTracing runs fn with a span that records nothing, in the parent's context", () => {
    const parent = extract({ traceparent: `00-${T}-${P}-01` });
    const seen = startSpan(
      "untraced",
      (span) => {
        assert.equal(span.isRecording(), false);
        span.setAttribute("ignored", true);
        return trace.getActiveSpan()?.spanContext().traceId;
      },
      undefined,
      { parent },
    );
    assert.equal(seen, T);
    assert.equal(
      startSpan("bare", (span) => span.spanContext().traceId),
      "00000000000000000000000000000000",
    );
  });
});

describe("addEvent", () => {
  it("records on the active span, and does nothing without one", async () => {
    await using tracing = memory();
    addEvent("nowhere");
    startSpan("query", () => addEvent("cache.hit", { "cache.key": "k" }));
    const [span] = tracing.spans();
    assert.deepEqual(span.events, [{
      name: "cache.hit",
      attributes: { "cache.key": "k" },
    }]);
  });
});
