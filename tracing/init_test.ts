import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { context, propagation, trace } from "@opentelemetry/api";
import {
  createTracing,
  extract,
  type SpanIds,
  startSpan,
  type TracingOptions,
} from "./mod.ts";
import meta from "./deno.json" with { type: "json" };

const T = "4bf92f3577b34da6a3ce929d0e0e4736";
const P = "00f067aa0ba902b7";
const sampledParent = extract({ traceparent: `00-${T}-${P}-01` });
const unsampledParent = extract({ traceparent: `00-${T}-${P}-00` });

function withTracing(
  options: Partial<TracingOptions>,
  fn: (tracing: ReturnType<typeof createTracing>) => void | Promise<void>,
): Promise<void> {
  const tracing = createTracing({
    service: { name: "svc" },
    exporter: "memory",
    ...options,
  });
  return (async () => {
    try {
      await fn(tracing);
    } finally {
      await tracing.close();
    }
  })();
}

const ids = (parent?: ReturnType<typeof extract>): SpanIds =>
  startSpan("s", (span) => span.spanContext(), undefined, { parent });

describe("createTracing sampling", () => {
  it("always: records new traces and traces whose caller did not sample", () =>
    withTracing({ sampler: "always" }, (tracing) => {
      assert.equal(ids().traceFlags, 1);
      const child = ids(unsampledParent);
      assert.equal(child.traceId, T);
      assert.equal(child.traceFlags, 1);
      assert.equal(tracing.spans().length, 2);
    }));

  it("never: records nothing, even under a sampled parent, but keeps the trace id", () =>
    withTracing({ sampler: "never" }, (tracing) => {
      const child = ids(sampledParent);
      assert.equal(child.traceId, T);
      assert.notEqual(child.spanId, P);
      assert.equal(child.traceFlags, 0);
      assert.equal(ids().traceFlags, 0);
      assert.deepEqual(tracing.spans(), []);
    }));

  it("ratio (parent-based): a sampled parent is honoured even at rate 0", () =>
    withTracing({ sampler: "ratio", sampleRate: 0 }, (tracing) => {
      assert.equal(ids().traceFlags, 0, "new trace at rate 0");
      assert.equal(ids(sampledParent).traceFlags, 1);
      assert.equal(tracing.spans().length, 1);
      assert.equal(tracing.spans()[0].parentSpanId, P);
    }));

  it("ratio (parent-based): an unsampled parent is honoured even at rate 1", () =>
    withTracing({ sampler: "ratio", sampleRate: 1 }, (tracing) => {
      assert.equal(ids().traceFlags, 1, "new trace at rate 1");
      assert.equal(ids(unsampledParent).traceFlags, 0);
      assert.equal(tracing.spans().length, 1);
    }));

  it("ratio: samples about sampleRate of new traces", () =>
    withTracing({ sampler: "ratio", sampleRate: 0.5 }, (tracing) => {
      for (let i = 0; i < 2000; i++) ids();
      const share = tracing.spans().length / 2000;
      assert.ok(share > 0.4 && share < 0.6, `sampled ${share}`);
    }));

  it("children follow their local parent's decision", () =>
    withTracing({ sampler: "ratio", sampleRate: 0 }, (tracing) => {
      startSpan("root", () => startSpan("child", () => {}), undefined, {
        parent: sampledParent,
      });
      assert.deepEqual(tracing.spans().map((s) => s.name), ["child", "root"]);
    }));

  it("defaults to ratio 0.1", () =>
    withTracing({}, (tracing) => {
      for (let i = 0; i < 2000; i++) ids();
      const share = tracing.spans().length / 2000;
      assert.ok(share > 0.05 && share < 0.15, `sampled ${share}`);
    }));
});

describe("createTracing", () => {
  it("sets the service resource attributes", () =>
    withTracing({
      service: { name: "cqpm", version: "1.4.0", environment: "staging" },
      sampler: "always",
    }, (tracing) => {
      startSpan("x", () => {});
      const resource = tracing.spans()[0].resource;
      assert.equal(resource["service.name"], "cqpm");
      assert.equal(resource["service.version"], "1.4.0");
      assert.equal(resource["deployment.environment.name"], "staging");
      assert.equal(resource["telemetry.sdk.language"], "nodejs");
      assert.equal(
        resource["process.runtime.name"],
        "Bun" in globalThis ? "bun" : "deno",
      );
    }));

  it("names its tracer with the module's deno.json name and version", () =>
    withTracing({ sampler: "always" }, () => {
      const scope = startSpan(
        "x",
        (span) =>
          (span as unknown as {
            instrumentationScope: { name: string; version?: string };
          }).instrumentationScope,
      );
      assert.deepEqual(
        { name: scope.name, version: scope.version },
        { name: "@cqi/tracing", version: meta.version },
      );
    }));

  it("registers the provider and propagator globally, and removes them at close", async () => {
    const tracing = createTracing({
      service: { name: "svc" },
      exporter: "memory",
      sampler: "always",
    });
    assert.equal(tracing.mode, "sdk");
    trace.getTracer("other-library").startSpan("theirs").end();
    const carrier: Record<string, string> = {};
    const span = startSpan("ours", (span) => {
      propagation.inject(context.active(), carrier);
      return span.spanContext();
    });
    assert.equal(carrier.traceparent, `00-${span.traceId}-${span.spanId}-01`);
    assert.deepEqual(tracing.spans().map((s) => s.name), ["theirs", "ours"]);
    await tracing.close();
    trace.getTracer("other-library").startSpan("after").end();
    startSpan("after", (span) => assert.equal(span.isRecording(), false));
    assert.deepEqual(tracing.spans().map((s) => s.name), ["theirs", "ours"]);
    const after: Record<string, string> = {};
    propagation.inject(trace.setSpanContext(context.active(), span), after);
    assert.deepEqual(after, {}, "the global propagator is a no-op again");
    await tracing.close(); // idempotent
  });

  it("resets the memory exporter", () =>
    withTracing({ sampler: "always" }, (tracing) => {
      startSpan("x", () => {});
      tracing.reset();
      assert.deepEqual(tracing.spans(), []);
    }));

  it("refuses a second initialisation until the first is closed", async () => {
    const first = createTracing({ service: { name: "a" }, exporter: "memory" });
    assert.throws(
      () => createTracing({ service: { name: "b" }, exporter: "memory" }),
      /already initialised/,
    );
    await first[Symbol.asyncDispose]();
    const second = createTracing({
      service: { name: "b" },
      exporter: "memory",
    });
    await second.close();
  });

  it("refuses when another tracer provider is registered globally", async () => {
    const { BasicTracerProvider } = await import(
      "@opentelemetry/sdk-trace-base"
    );
    const foreign = new BasicTracerProvider();
    assert.ok(trace.setGlobalTracerProvider(foreign));
    try {
      assert.throws(
        () => createTracing({ service: { name: "a" }, exporter: "memory" }),
        /another OpenTelemetry tracer provider/,
      );
    } finally {
      trace.disable();
      await foreign.shutdown();
    }
  });

  it("returns a disabled handle with enabled: false", async () => {
    await using tracing = createTracing({
      service: { name: "off" },
      enabled: false,
      exporter: "memory",
      sampler: "always",
    });
    assert.equal(tracing.mode, "disabled");
    startSpan("x", (span) => assert.equal(span.isRecording(), false));
    await tracing.flush();
    tracing.reset();
    assert.deepEqual(tracing.spans(), []);
  });

  it("prints spans with the console exporter", async () => {
    const original = console.dir;
    const printed: unknown[] = [];
    console.dir = (value: unknown) => void printed.push(value);
    try {
      await withTracing({ exporter: "console", sampler: "always" }, () => {
        startSpan("printed", () => {});
      });
    } finally {
      console.dir = original;
    }
    assert.equal((printed[0] as { name: string }).name, "printed");
  });

  it("names the bad option", () => {
    const bad: Array<[unknown, RegExp, ErrorConstructor]> = [
      [{}, /service\.name/, TypeError],
      [{ service: { name: " " } }, /service\.name/, TypeError],
      [
        { service: { name: "a" }, sampler: "sometimes" },
        /sampler must be/,
        TypeError,
      ],
      [{ service: { name: "a" }, sampleRate: 1.5 }, /sampleRate/, RangeError],
      [
        { service: { name: "a" }, sampleRate: Number.NaN },
        /sampleRate/,
        RangeError,
      ],
      [
        { service: { name: "a" }, exporter: "zipkin" },
        /exporter must be/,
        TypeError,
      ],
      [{ service: { name: "a" }, exporter: {} }, /exporter must be/, TypeError],
      [
        { service: { name: "a" }, shutdownTimeout: -1 },
        /shutdownTimeout/,
        RangeError,
      ],
      [
        { service: { name: "a" }, shutdownTimeout: Infinity },
        /shutdownTimeout/,
        RangeError,
      ],
      [
        {
          service: { name: "a" },
          exporter: "otlp-grpc",
          protocol: "http/json",
        },
        /otlp-grpc/,
        TypeError,
      ],
    ];
    for (const [options, message, type] of bad) {
      assert.throws(
        () => createTracing(options as TracingOptions),
        (e: Error) => {
          assert.ok(e instanceof type, `${e} is a ${type.name}`);
          assert.match(e.message, message);
          return true;
        },
      );
    }
  });
});
