import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { context, trace, TraceFlags } from "@opentelemetry/api";
import { addLogFields, withRequestScope } from "@cqi/http";
import {
  createLogger,
  LogField,
  type LogLevel,
  memorySink,
  type Sink,
} from "./mod.ts";
import { requestChild } from "./logger.ts";

const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const LEVELS: LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal"];

// LOG_LEVEL overrides every level option: keep the caller's out of the way.
let savedLevel: string | undefined;
beforeEach(() => {
  savedLevel = process.env.LOG_LEVEL;
  delete process.env.LOG_LEVEL;
});
afterEach(() => {
  if (savedLevel === undefined) delete process.env.LOG_LEVEL;
  else process.env.LOG_LEVEL = savedLevel;
});

function setup(options: Parameters<typeof createLogger>[0] = {}) {
  const sink = memorySink();
  const log = createLogger({
    service: { name: "orders" },
    ...options,
    output: sink,
  });
  return { sink, log };
}

describe("standard fields", () => {
  it("writes timestamp, level, message and service_name on every line", () => {
    const { sink, log } = setup();
    const before = Date.now();
    log.info("order placed");
    const after = Date.now();
    const [record] = sink.records;
    assert.deepEqual(Object.keys(record), [
      LogField.Timestamp,
      LogField.Level,
      LogField.ServiceName,
      LogField.Message,
    ]);
    assert.match(record.timestamp as string, RFC3339_MS);
    const ms = Date.parse(record.timestamp as string);
    assert.ok(ms >= before && ms <= after, `${ms} in [${before}, ${after}]`);
    assert.equal(record.level, "info");
    assert.equal(record.message, "order placed");
    assert.equal(record.service_name, "orders");
  });

  it("formats timestamps across seconds and repeated milliseconds", async () => {
    const { sink, log } = setup();
    for (let i = 0; i < 3; i++) {
      log.info("a");
      log.info("b");
      await new Promise((r) => setTimeout(r, 2));
    }
    for (const { timestamp } of sink.records) {
      assert.match(timestamp as string, RFC3339_MS);
      assert.ok(Math.abs(Date.parse(timestamp as string) - Date.now()) < 5000);
    }
  });

  it("defaults service_name to unknown_service", () => {
    const sink = memorySink();
    createLogger({ output: sink }).info("x");
    assert.equal(sink.records[0].service_name, "unknown_service");
  });

  it("writes one line of valid JSON per call, escaping the message", () => {
    const { sink, log } = setup();
    const message = 'quote " backslash \\ newline \n tab \t nul \u0000 é 😀';
    log.info(message);
    log.info("\ud800 lone surrogate");
    assert.equal(sink.lines.length, 2);
    assert.equal(sink.records[0].message, message);
    assert.equal(sink.records[1].message, "\ud800 lone surrogate");
    assert.ok(!sink.lines[0].includes("\n"));
  });

  it("writes a non-string message as JSON", () => {
    const { sink, log } = setup();
    (log.info as (m: unknown) => void)(42);
    (log.info as (m: unknown) => void)(undefined);
    assert.equal(sink.records[0].message, 42);
    assert.equal(sink.records[1].message, "");
  });

  it("adds the call's fields after the standard ones", () => {
    const { sink, log } = setup();
    log.warn("disk low", { free_mb: 12, mount: "/data", ok: false });
    const record = sink.records[0];
    assert.equal(record.free_mb, 12);
    assert.equal(record.mount, "/data");
    assert.equal(record.ok, false);
  });

  it("prefixes caller fields named like standard fields with _", () => {
    const { sink, log } = setup();
    log.info("x", { level: "custom", message: "m", trace_id: "t" });
    const record = sink.records[0];
    assert.equal(record.level, "info");
    assert.equal(record._level, "custom");
    assert.equal(record._message, "m");
    assert.equal(record._trace_id, "t");
  });
});

describe("trace context", () => {
  const traceId = "0af7651916cd43dd8448eb211c80319c";
  const spanId = "b7ad6b7169203331";

  it("writes trace_id and span_id of the active span", () => {
    const { sink, log } = setup();
    const span = trace.wrapSpanContext({
      traceId,
      spanId,
      traceFlags: TraceFlags.SAMPLED,
    });
    context.with(trace.setSpan(context.active(), span), () => {
      log.info("inside");
    });
    log.info("outside");
    const [inside, outside] = sink.records;
    assert.equal(inside[LogField.TraceId], traceId);
    assert.equal(inside[LogField.SpanId], spanId);
    assert.equal(outside.trace_id, undefined);
    assert.equal(outside.span_id, undefined);
  });

  it("follows the span across awaits, and switches between spans", async () => {
    const { sink, log } = setup();
    const other = "11111111111111111111111111111111";
    const run = (id: string) =>
      context.with(
        trace.setSpan(
          context.active(),
          trace.wrapSpanContext({ traceId: id, spanId, traceFlags: 1 }),
        ),
        async () => {
          await new Promise((r) => setTimeout(r, 1));
          log.info(id);
        },
      );
    await Promise.all([run(traceId), run(other), run(traceId)]);
    for (const record of sink.records) {
      assert.equal(record.trace_id, record.message);
    }
  });

  it("writes only trace_id for a remote span context (a caller's span)", () => {
    const { sink, log } = setup();
    const remote = trace.wrapSpanContext({
      traceId,
      spanId,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    context.with(trace.setSpan(context.active(), remote), () => log.info("x"));
    assert.equal(sink.records[0][LogField.TraceId], traceId);
    assert.equal(sink.records[0][LogField.SpanId], undefined);
  });

  it("leaves the ids out for an invalid span context", () => {
    const { sink, log } = setup();
    const span = trace.wrapSpanContext({
      traceId: "00000000000000000000000000000000",
      spanId: "0000000000000000",
      traceFlags: 0,
    });
    context.with(trace.setSpan(context.active(), span), () => log.info("x"));
    assert.equal(sink.records[0].trace_id, undefined);
  });
});

describe("levels", () => {
  it("writes each level's name", () => {
    const { sink, log } = setup({ level: "trace" });
    for (const level of LEVELS) log[level](level);
    assert.deepEqual(sink.records.map((r) => r.level), LEVELS);
    assert.deepEqual(sink.records.map((r) => r.message), LEVELS);
  });

  for (const [index, threshold] of LEVELS.entries()) {
    it(`at ${threshold}, writes ${threshold} and above only`, () => {
      const { sink, log } = setup({ level: threshold });
      assert.equal(log.level, threshold);
      for (const level of LEVELS) log[level]("x");
      assert.deepEqual(
        sink.records.map((r) => r.level),
        LEVELS.slice(index),
      );
      for (const level of LEVELS) {
        assert.equal(log.isLevelEnabled(level), LEVELS.indexOf(level) >= index);
      }
    });
  }

  it("defaults to info", () => {
    const { sink, log } = setup();
    log.debug("hidden");
    log.info("shown");
    assert.equal(log.level, "info");
    assert.deepEqual(sink.records.map((r) => r.message), ["shown"]);
  });

  it("silent writes nothing", () => {
    const { sink, log } = setup({ level: "silent" });
    for (const level of LEVELS) log[level]("x");
    assert.equal(sink.lines.length, 0);
  });

  it("reads no field of a disabled call", () => {
    const { sink, log } = setup({ level: "warn" });
    const fields = {
      get costly(): never {
        throw new Error("must not be read");
      },
    };
    log.debug("x", fields);
    log.info("x", fields);
    assert.equal(sink.lines.length, 0);
  });

  it("is overridden by LOG_LEVEL, in any case", () => {
    process.env.LOG_LEVEL = "DEBUG";
    const { sink, log } = setup({ level: "error" });
    assert.equal(log.level, "debug");
    log.debug("shown");
    assert.equal(sink.lines.length, 1);
  });

  it("rejects an unknown LOG_LEVEL, naming it", () => {
    process.env.LOG_LEVEL = "verbose";
    assert.throws(() => setup(), (e) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, /LOG_LEVEL/);
      assert.match(e.message, /verbose/);
      return true;
    });
  });

  it("still rejects a bad level option when LOG_LEVEL is set", () => {
    process.env.LOG_LEVEL = "debug";
    assert.throws(() => setup({ level: "loud" as "info" }), RangeError);
  });

  it("ignores an empty LOG_LEVEL", () => {
    process.env.LOG_LEVEL = "";
    assert.equal(setup({ level: "warn" }).log.level, "warn");
  });
});

describe("child loggers", () => {
  it("bind fields once, for every line, nesting", () => {
    const { sink, log } = setup();
    const bound = { request_id: "r-1" };
    const child = log.child(bound);
    bound.request_id = "changed later";
    const grandchild = child.child({ user_id: "u-9" });
    grandchild.info("hello", { extra: 1 });
    child.info("child only");
    log.info("root");
    const [g, c, r] = sink.records;
    assert.equal(g.request_id, "r-1");
    assert.equal(g.user_id, "u-9");
    assert.equal(g.extra, 1);
    assert.equal(c.request_id, "r-1");
    assert.equal(c.user_id, undefined);
    assert.equal(r.request_id, undefined);
  });

  it("share the level and the output", async () => {
    let flushed = 0;
    let closed = 0;
    const lines: string[] = [];
    const sink: Sink = {
      write: (line) => void lines.push(line),
      flush: () => Promise.resolve(void flushed++),
      close: () => Promise.resolve(void closed++),
    };
    const log = createLogger({ level: "warn", output: sink });
    const child = log.child({ a: 1 });
    child.info("hidden");
    child.warn("shown");
    assert.equal(child.level, "warn");
    assert.equal(lines.length, 1);
    assert.ok(lines[0].endsWith("}\n"));
    await child.flush();
    await child[Symbol.asyncDispose]();
    assert.equal(flushed, 1);
    assert.equal(closed, 1);
  });

  it("take bindings from the fields option", () => {
    const { sink, log } = setup({ fields: { region: "eu", password: "x" } });
    log.info("x");
    assert.equal(sink.records[0].region, "eu");
    assert.equal(sink.records[0].password, "[REDACTED]");
  });
});

describe("request loggers", () => {
  it("add the request's extra log fields as they are at each call", async () => {
    const { sink, log } = setup();
    const request = requestChild(log, { request_id: "r-1" });
    await withRequestScope(async () => {
      request.info("before auth");
      await Promise.resolve();
      addLogFields({ user_id: "u-1" });
      request.info("after auth");
      request.child({ step: 2 }).info("child of a request logger");
    });
    const [before, after, child] = sink.records;
    assert.equal(before.request_id, "r-1");
    assert.equal(before.user_id, undefined);
    assert.equal(after.user_id, "u-1");
    assert.equal(child.user_id, "u-1");
    assert.equal(child.step, 2);
  });

  it("fall back to child() for a logger made elsewhere", () => {
    const children: unknown[] = [];
    const { log } = setup();
    const foreign = { ...log, child: (f: object) => (children.push(f), log) };
    requestChild(foreign, { request_id: "r" });
    assert.deepEqual(children, [{ request_id: "r" }]);
  });
});

describe("options", () => {
  it("reject a bad service, level, format, redact or output, naming it", () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ service: 5 }, /service/],
      [{ level: "verbose" }, /level/],
      [{ service: "orders" }, /service/],
      [{ level: 3 }, /level/],
      [{ format: "xml" }, /format/],
      [{ redact: "password" }, /redact/],
      [{ redact: [1] }, /redact/],
      [{ output: "" }, /output/],
      [{ output: 3 }, /output/],
      [{ output: { write() {} } }, /output/],
      [{ fields: "abc" }, /fields/],
      [{ fields: null }, /fields/],
    ];
    for (const [options, pattern] of bad) {
      assert.throws(
        () => createLogger(options as Parameters<typeof createLogger>[0]),
        (e) => e instanceof Error && pattern.test(e.message),
        JSON.stringify(options),
      );
    }
  });

  it("pretty-prints for development when format is pretty", () => {
    const sink = memorySink();
    const log = createLogger({
      service: { name: "s" },
      format: "pretty",
      output: sink,
    });
    log.info("hello", { user: "ada", note: "two words" });
    assert.match(sink.lines[0], /^\d{2}:\d{2}:\d{2}\.\d{3} INFO {2}hello /);
    assert.match(sink.lines[0], /user=ada/);
    assert.match(sink.lines[0], /note="two words"/);
  });
});
