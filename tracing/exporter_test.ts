import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { trace } from "@opentelemetry/api";
import {
  addLogFields,
  applyMiddleware,
  getLogFields,
  type Handler,
  router,
  serve,
} from "@cqi/http";
import { isTemporary } from "@cqi/errors";
import {
  addEvent,
  createTracing,
  httpTracing,
  type SpanExporterLike,
  startSpan,
  type TracingOptions,
} from "./mod.ts";
import { otlpProtocol, otlpUrl } from "./exporter.ts";
import {
  grpcReceiver,
  httpReceiver,
  type ReceivedSpan,
  type Receiver,
} from "./testdata/otlp_receiver.ts";
import { closedPort } from "../tests/_util.ts";

const INCOMING_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const INCOMING_PARENT = "00f067aa0ba902b7";
const local = { port: 0, hostname: "127.0.0.1", handleSignals: false };

/** Sets environment variables for the duration of `fn`. */
async function withEnv(
  vars: Record<string, string>,
  fn: () => Promise<void>,
): Promise<void> {
  const saved = Object.keys(vars).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, vars);
  try {
    await fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Runs one traced request through a real server, then closes tracing. */
async function tracedRequest(options: Partial<TracingOptions>) {
  const tracing = createTracing({
    service: { name: "orders", version: "2.3.4", environment: "test" },
    sampler: "always",
    ...options,
  });
  const app = router({
    "GET /orders/:id": (_req, { id }) =>
      startSpan("orders.load", () => {
        addEvent("cache.miss", { "cache.key": `order:${id}` });
        return Response.json({ id });
      }, { "order.id": id }),
  });
  {
    await using server = serve(applyMiddleware(app, httpTracing()), local);
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/orders/7`, {
      headers: {
        traceparent: `00-${INCOMING_TRACE}-${INCOMING_PARENT}-01`,
        tracestate: "rojo=00f067aa0ba902b7",
        "user-agent": "exporter-test/1.0",
      },
    });
    assert.deepEqual(await res.json(), { id: "7" });
  }
  await tracing.close(); // exports everything that ended
}

function checkRequestSpans(spans: ReceivedSpan[], port?: number) {
  const server = spans.find((s) => s.kind === 2);
  const inner = spans.find((s) => s.name === "orders.load");
  assert.ok(server, "a server span arrived");
  assert.ok(inner, "the internal span arrived");
  assert.equal(server.name, "GET /orders/:id");
  assert.equal(server.traceId, INCOMING_TRACE);
  assert.equal(server.parentSpanId, INCOMING_PARENT);
  assert.equal(server.traceState, "rojo=00f067aa0ba902b7");
  assert.equal(inner.traceId, INCOMING_TRACE);
  assert.equal(inner.parentSpanId, server.spanId);
  assert.equal(inner.kind, 1);
  assert.equal(inner.attributes["order.id"], "7");
  assert.deepEqual(inner.events.map((e) => e.name), ["cache.miss"]);
  assert.equal(inner.events[0].attributes["cache.key"], "order:7");
  const a = server.attributes;
  assert.equal(a["http.request.method"], "GET");
  assert.equal(a["url.path"], "/orders/7");
  assert.equal(a["url.scheme"], "http");
  assert.equal(a["http.route"], "/orders/:id");
  assert.equal(a["http.response.status_code"], 200);
  assert.equal(a["server.address"], "127.0.0.1");
  if (port !== undefined) assert.equal(a["server.port"], port);
  assert.equal(typeof a["server.port"], "number");
  assert.equal(a["user_agent.original"], "exporter-test/1.0");
  assert.equal(server.status.code, 0);
  assert.equal(server.resource["service.name"], "orders");
  assert.equal(server.resource["service.version"], "2.3.4");
  assert.equal(server.resource["deployment.environment.name"], "test");
}

describe("OTLP export to a real receiver", () => {
  for (
    const [exporter, protocol, contentType] of [
      ["otlp", "http/protobuf", "application/x-protobuf"],
      ["otlp-http", "http/json", "application/json"],
      ["otlp-grpc", undefined, "application/grpc"],
    ] as const
  ) {
    it(`${exporter} ${protocol ?? "grpc"}: names, attributes, parent links, resource`, async () => {
      await using receiver: Receiver = exporter === "otlp-grpc"
        ? await grpcReceiver()
        : httpReceiver();
      const errors: unknown[] = [];
      await tracedRequest({
        exporter,
        protocol,
        endpoint: receiver.url,
        onError: (e) => errors.push(e),
      });
      assert.deepEqual(errors, []);
      assert.ok(receiver.requests.length >= 1);
      assert.ok(receiver.requests[0].contentType.startsWith(contentType));
      assert.equal(
        receiver.requests[0].path,
        exporter === "otlp-grpc"
          ? "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
          : "/v1/traces",
      );
      checkRequestSpans(receiver.spans());
    });
  }

  it("exports every ended span at close: none is lost", async () => {
    await using receiver = httpReceiver();
    const tracing = createTracing({
      service: { name: "burst" },
      exporter: "otlp-http",
      endpoint: receiver.url,
      sampler: "always",
    });
    for (let i = 0; i < 1500; i++) startSpan(`burst.${i}`, () => {});
    await tracing.close();
    const names = new Set(receiver.spans().map((s) => s.name));
    assert.equal(names.size, 1500);
    assert.ok(names.has("burst.0") && names.has("burst.1499"));
  });

  it("takes the endpoint and protocol from OTEL_EXPORTER_OTLP_* when none is configured", async () => {
    await using receiver = httpReceiver();
    await withEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    }, async () => {
      const tracing = createTracing({
        service: { name: "env" },
        sampler: "always",
      });
      startSpan("from.env", () => {});
      await tracing.close();
    });
    assert.deepEqual(receiver.spans().map((s) => s.name), ["from.env"]);
    assert.equal(receiver.requests[0].path, "/v1/traces");
    assert.equal(receiver.requests[0].contentType, "application/json");
  });

  it("uses OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as the full URL", async () => {
    await using receiver = httpReceiver();
    await withEnv({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/custom/traces`,
    }, async () => {
      const tracing = createTracing({
        service: { name: "env" },
        exporter: "otlp-http",
        sampler: "always",
      });
      startSpan("signal.env", () => {});
      await tracing.close();
    });
    assert.equal(receiver.requests[0].path, "/custom/traces");
    assert.equal(receiver.spans()[0].name, "signal.env");
  });

  it("reports a failed export to onError as a temporary CqiError with the cause", async () => {
    await using collector = serve(
      () => new Response("no", { status: 400 }),
      local,
    );
    const errors: unknown[] = [];
    const tracing = createTracing({
      service: { name: "failing" },
      exporter: "otlp-http",
      endpoint: `127.0.0.1:${collector.addr.port}`,
      sampler: "always",
      onError: (e) => errors.push(e),
    });
    startSpan("lost", () => {});
    await tracing.close();
    assert.equal(errors.length, 1);
    assert.ok(isTemporary(errors[0]));
    const error = errors[0] as Error;
    assert.match(
      error.message,
      /exporting 1 span\(s\) to http:\/\/127\.0\.0\.1:\d+\/v1\/traces \(http\/protobuf\) failed/,
    );
    assert.ok(error.cause !== undefined);
  });

  it("reports a failure of a custom exporter, and a throwing reporter is ignored", async () => {
    const exporter: SpanExporterLike = {
      export: (_spans, done) =>
        done({ code: 1, error: new Error("disk full") }),
      shutdown: () => Promise.resolve(),
    };
    const seen: unknown[] = [];
    const tracing = createTracing({
      service: { name: "custom" },
      exporter,
      sampler: "always",
      onError: (e) => {
        seen.push(e);
        throw new Error("reporter broke");
      },
    });
    startSpan("x", () => {});
    await tracing.close();
    assert.equal(seen.length, 1);
    assert.equal(((seen[0] as Error).cause as Error).message, "disk full");
  });

  it("hands batches to a custom exporter", async () => {
    const batches: unknown[][] = [];
    let shutDown = false;
    const tracing = createTracing({
      service: { name: "custom" },
      exporter: {
        export: (spans, done) => {
          batches.push(spans);
          done({ code: 0 });
        },
        shutdown: () => {
          shutDown = true;
          return Promise.resolve();
        },
      },
      sampler: "always",
    });
    startSpan("a", () => {});
    startSpan("b", () => {});
    await tracing.flush();
    assert.equal(batches.flat().length, 2);
    await tracing.close();
    assert.ok(shutDown);
  });
});

describe("otlpUrl", () => {
  it("adds a scheme and the traces path to a collector address", () => {
    assert.equal(
      otlpUrl("collector:4318", "http/protobuf"),
      "http://collector:4318/v1/traces",
    );
    assert.equal(
      otlpUrl("https://c.example:4318/", "http/json"),
      "https://c.example:4318/v1/traces",
    );
    assert.equal(
      otlpUrl("http://c:4318/otlp/v1/traces", "http/protobuf"),
      "http://c:4318/otlp/v1/traces",
    );
    assert.equal(otlpUrl("localhost:4317", "grpc"), "http://localhost:4317");
    assert.equal(
      otlpUrl("https://c.example:4317", "grpc"),
      "https://c.example:4317",
    );
    assert.equal(otlpUrl(undefined, "grpc"), undefined);
  });

  it("rejects what is not an address", () => {
    assert.throws(() => otlpUrl("http://[bad", "http/protobuf"), TypeError);
  });
});

describe("otlpProtocol", () => {
  it("follows the exporter name, the option, then the environment", async () => {
    assert.equal(otlpProtocol("otlp-grpc", undefined), "grpc");
    assert.equal(otlpProtocol("otlp", undefined), "http/protobuf");
    assert.equal(otlpProtocol("otlp", "grpc"), "grpc");
    assert.equal(otlpProtocol("otlp-http", "http/json"), "http/json");
    await withEnv({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" }, () => {
      assert.equal(otlpProtocol("otlp", undefined), "grpc");
      assert.equal(otlpProtocol("otlp-http", undefined), "http/protobuf");
      assert.equal(otlpProtocol("otlp", "http/json"), "http/json");
      return Promise.resolve();
    });
  });

  it("names a bad option or variable", async () => {
    assert.throws(() => otlpProtocol("otlp-grpc", "http/json"), TypeError);
    assert.throws(() => otlpProtocol("otlp-http", "grpc"), TypeError);
    assert.throws(
      () => otlpProtocol("otlp", "http" as "grpc"),
      /protocol must be/,
    );
    await withEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: "carrier-pigeon" }, () => {
      assert.throws(
        () => otlpProtocol("otlp", undefined),
        /OTEL_EXPORTER_OTLP_PROTOCOL must be/,
      );
      return Promise.resolve();
    });
  });
});

/**
 * An `onError` that keeps each error with what a log line written there
 * would carry: the active span's trace id (the logger's `trace_id`) and the
 * request scope's log fields.
 */
function recordingReports() {
  const reports: Array<
    { error: unknown; traceId?: string; fields: Record<string, unknown> }
  > = [];
  const onError = (error: unknown) =>
    reports.push({
      error,
      traceId: trace.getActiveSpan()?.spanContext().traceId,
      fields: { ...getLogFields() },
    });
  return { reports, onError };
}

/** Serves `handler` under httpTracing, makes one request, stops the server. */
async function oneTracedRequest(handler: Handler): Promise<void> {
  await using server = serve(applyMiddleware(handler, httpTracing()), local);
  const res = await fetch(`http://127.0.0.1:${server.addr.port}/orders/7`);
  assert.equal(await res.text(), "ok");
}

describe("export failures and shutdown", () => {
  it("with the collector down, close ends within shutdownTimeout and no failure carries the request's trace id", async () => {
    const port = await closedPort();
    const { reports, onError } = recordingReports();
    const tracing = createTracing({
      service: { name: "down" },
      exporter: "otlp",
      endpoint: `127.0.0.1:${port}`,
      sampler: "always",
      shutdownTimeout: 300,
      onError,
    });
    let requestTrace: string | undefined;
    await oneTracedRequest(() => {
      requestTrace = trace.getActiveSpan()?.spanContext().traceId;
      addLogFields({ order_id: "7" });
      startSpan("orders.load", () => {});
      // an export started inside the request, as the batch processor's
      // timer does when a request ended the first span of a batch; to a
      // closed port it fails, and is retried for about 8 s
      void tracing.flush();
      return new Response("ok");
    });
    assert.match(requestTrace ?? "", /^[0-9a-f]{32}$/);
    const started = performance.now();
    await tracing.close();
    const took = performance.now() - started;
    // 300 ms, with room for a busy machine; it took about 8 s before
    assert.ok(took < 2_000, `close took ${Math.round(took)} ms`);
    assert.ok(reports.length >= 1, "the lost spans are reported");
    const spans = reports.reduce(
      (n, r) =>
        n + Number(/exporting (\d+) span/.exec((r.error as Error).message)![1]),
      0,
    );
    assert.equal(spans, 2, "the request's server span and its child");
    for (const { error, traceId, fields } of reports) {
      assert.ok(isTemporary(error));
      assert.match(
        (error as Error).message,
        /^tracing: exporting \d+ span\(s\) to http:\/\/127\.0\.0\.1:\d+\/v1\/traces \(http\/protobuf\) failed$/,
      );
      assert.match(
        ((error as Error).cause as Error).message,
        /close did not finish within 300 ms/,
      );
      assert.equal(traceId, undefined, "no trace id in the failure line");
      assert.deepEqual(fields, {}, "no request fields in the failure line");
    }
  });

  it("reports an export that fails inside a request in the root context", async () => {
    await using collector = serve(
      () => new Response("no", { status: 400 }),
      local,
    );
    const { reports, onError } = recordingReports();
    const tracing = createTracing({
      service: { name: "failing" },
      exporter: "otlp-http",
      endpoint: `127.0.0.1:${collector.addr.port}`,
      sampler: "always",
      onError,
    });
    try {
      await oneTracedRequest(async () => {
        addLogFields({ order_id: "7" });
        startSpan("orders.load", () => {});
        await tracing.flush(); // fails at once: 400 is not retried
        return new Response("ok");
      });
      assert.equal(reports.length, 1);
      assert.ok(isTemporary(reports[0].error));
      assert.equal(reports[0].traceId, undefined);
      assert.deepEqual(reports[0].fields, {});
    } finally {
      await tracing.close();
    }
  });

  it("drops the results of exports close gave up on, and reports nothing after it", async () => {
    const pending: Array<(result: { code: number; error?: Error }) => void> =
      [];
    const { reports, onError } = recordingReports();
    const tracing = createTracing({
      service: { name: "stuck" },
      exporter: {
        export: (_spans, done) => void pending.push(done),
        shutdown: () => new Promise(() => {}), // never ends
      },
      sampler: "always",
      shutdownTimeout: 50,
      onError,
    });
    startSpan("a", () => {});
    startSpan("b", () => {});
    await tracing.close();
    assert.equal(pending.length, 1, "one batch was handed over");
    assert.equal(reports.length, 1);
    assert.match(
      (reports[0].error as Error).message,
      /exporting 2 span\(s\) to the span exporter failed/,
    );
    pending[0]({ code: 1, error: new Error("late") });
    pending[0]({ code: 0 });
    await tracing.close(); // idempotent
    assert.equal(reports.length, 1, "nothing reported after close");
  });

  it("reports a close that ran out of time with nothing being exported", async () => {
    const { reports, onError } = recordingReports();
    const tracing = createTracing({
      service: { name: "slow-shutdown" },
      exporter: {
        export: (_spans, done) => done({ code: 0 }),
        shutdown: () => new Promise(() => {}),
      },
      sampler: "always",
      shutdownTimeout: 20,
      onError,
    });
    await tracing.close();
    assert.equal(reports.length, 1);
    assert.match(
      (reports[0].error as Error).message,
      /close did not finish within 20 ms/,
    );
  });

  it("bounds flush by shutdownTimeout too, and reports its failures once", async () => {
    const pending: Array<(result: { code: number; error?: Error }) => void> =
      [];
    const { reports, onError } = recordingReports();
    const tracing = createTracing({
      service: { name: "slow" },
      exporter: {
        export: (_spans, done) => void pending.push(done),
        shutdown: () => Promise.resolve(),
      },
      sampler: "always",
      shutdownTimeout: 50,
      onError,
    });
    startSpan("a", () => {});
    await tracing.flush(); // resolves after 50 ms; the export goes on
    assert.equal(pending.length, 1);
    assert.equal(reports.length, 0);
    const flushed = tracing.flush();
    pending[0]({ code: 1, error: new Error("disk full") });
    await flushed;
    assert.equal(reports.length, 1, "once, not again as the flush's error");
    await tracing.close();
  });
});
