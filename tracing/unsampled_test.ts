import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  isSpanContextValid,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import { suppressTracing } from "@opentelemetry/core";
import { createTraceState } from "@opentelemetry/api";
import { unsampledTracer } from "./unsampled.ts";

const T = "4bf92f3577b34da6a3ce929d0e0e4736";
const P = "00f067aa0ba902b7";
const fallback = trace.getTracer("fallback");
const tracer = unsampledTracer(fallback);

describe("unsampledTracer (sampler never)", () => {
  it("starts non-recording root spans with fresh valid ids and no sampled flag", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const span = tracer.startSpan("GET", {}, ROOT_CONTEXT);
      const sc = span.spanContext();
      assert.equal(span.isRecording(), false);
      assert.ok(isSpanContextValid(sc));
      assert.match(sc.traceId, /^[0-9a-f]{32}$/);
      assert.match(sc.spanId, /^[0-9a-f]{16}$/);
      assert.equal(sc.traceFlags, TraceFlags.NONE);
      ids.add(sc.traceId).add(sc.spanId);
    }
    assert.equal(ids.size, 2000);
  });

  it("continues the parent's trace id and trace state, with a new span id", () => {
    const traceState = createTraceState("rojo=00f067aa0ba902b7");
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: T,
      spanId: P,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState,
    });
    const sc = tracer.startSpan("GET", {}, parent).spanContext();
    assert.equal(sc.traceId, T);
    assert.notEqual(sc.spanId, P);
    assert.equal(sc.traceFlags, TraceFlags.NONE);
    assert.equal(sc.traceState, traceState);
    const root = tracer.startSpan("GET", { root: true }, parent).spanContext();
    assert.notEqual(root.traceId, T, "root: true starts a new trace");
  });

  it("gives the invalid span under suppressed tracing, as the SDK does", () => {
    const span = tracer.startSpan("GET", {}, suppressTracing(ROOT_CONTEXT));
    assert.equal(isSpanContextValid(span.spanContext()), false);
  });
});
