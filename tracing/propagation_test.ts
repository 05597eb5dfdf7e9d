import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  context,
  defaultTextMapGetter,
  propagation,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { type Carrier, extract, inject, type TracingContext } from "./mod.ts";
import { W3CTraceState } from "./w3c.ts";
import { getter } from "./carrier.ts";

const T = "4bf92f3577b34da6a3ce929d0e0e4736";
const P = "00f067aa0ba902b7";
const TRACEPARENT = `00-${T}-${P}-01`;

const spanOf = (ctx: TracingContext) =>
  trace.getSpanContext(ctx as typeof ROOT_CONTEXT);

describe("extract", () => {
  it("reads traceparent and tracestate from Headers as a remote parent", () => {
    const ctx = extract(
      new Headers({
        TraceParent: TRACEPARENT,
        TraceState: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
      }),
      ROOT_CONTEXT,
    );
    const span = spanOf(ctx);
    assert.equal(span?.traceId, T);
    assert.equal(span?.spanId, P);
    assert.equal(span?.traceFlags, TraceFlags.SAMPLED);
    assert.equal(span?.isRemote, true);
    assert.equal(
      span?.traceState?.serialize(),
      "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
    );
  });

  it("reads a plain record in any letter case, with bytes and repeated values", () => {
    const encode = (s: string) => new TextEncoder().encode(s);
    const ctx = extract({
      TRACEPARENT: encode(TRACEPARENT),
      tracestate: ["foo=1,bar=2", encode("rojo=1"), "baz=3"],
    }, ROOT_CONTEXT);
    assert.equal(spanOf(ctx)?.traceId, T);
    assert.equal(
      spanOf(ctx)?.traceState?.serialize(),
      "foo=1,bar=2,rojo=1,baz=3",
    );
  });

  it("reads a Map as a carrier", () => {
    const ctx = extract(new Map([["traceparent", TRACEPARENT]]), ROOT_CONTEXT);
    assert.equal(spanOf(ctx)?.spanId, P);
  });

  it("adds no parent for a missing, malformed, all-zero or duplicated traceparent", () => {
    const carriers: Carrier[] = [
      {},
      { traceparent: "garbage" },
      { traceparent: `00-${"0".repeat(32)}-${P}-01` },
      { traceparent: [TRACEPARENT, TRACEPARENT] },
      new Headers([["traceparent", TRACEPARENT], ["traceparent", TRACEPARENT]]),
      { traceparent: "", tracestate: "foo=1" },
    ];
    for (const carrier of carriers) {
      assert.equal(spanOf(extract(carrier, ROOT_CONTEXT)), undefined);
    }
  });

  it("keeps the traceparent and drops an invalid tracestate", () => {
    for (const tracestate of ["foo=1,foo=2", "FOO=1", "foo=bar=baz"]) {
      const span = spanOf(
        extract({ traceparent: TRACEPARENT, tracestate }, ROOT_CONTEXT),
      );
      assert.equal(span?.traceId, T);
      assert.equal(span?.traceState, undefined, tracestate);
    }
    const empty = spanOf(
      extract({ traceparent: TRACEPARENT, tracestate: "" }, ROOT_CONTEXT),
    );
    assert.equal(empty?.traceState?.serialize() ?? "", "");
  });

  it("reads baggage", () => {
    const ctx = extract({ baggage: "tenant=acme,plan=gold" }, ROOT_CONTEXT);
    const baggage = propagation.getBaggage(ctx as typeof ROOT_CONTEXT);
    assert.equal(baggage?.getEntry("tenant")?.value, "acme");
    assert.equal(baggage?.getEntry("plan")?.value, "gold");
  });

  it("extends the active context by default", () => {
    const key = Symbol("k");
    const ctx = context.with(
      ROOT_CONTEXT.setValue(key, 1),
      () => extract({ traceparent: TRACEPARENT }),
    );
    assert.equal(ctx.getValue(key), 1);
    assert.equal(spanOf(ctx)?.traceId, T);
  });
});

describe("inject", () => {
  const parent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: T,
    spanId: P,
    traceFlags: TraceFlags.SAMPLED,
    traceState: new W3CTraceState([["rojo", "1"]]),
  });

  it("writes traceparent and tracestate into Headers and records", () => {
    const headers = new Headers();
    inject(headers, parent);
    assert.equal(headers.get("traceparent"), TRACEPARENT);
    assert.equal(headers.get("tracestate"), "rojo=1");
    const record: Record<string, string> = {};
    inject(record, parent);
    assert.deepEqual(record, {
      traceparent: TRACEPARENT,
      tracestate: "rojo=1",
    });
  });

  it("writes the active context by default, and nothing without a span", () => {
    const record: Record<string, string> = {};
    context.with(parent, () => inject(record));
    assert.equal(record.traceparent, TRACEPARENT);
    const empty: Record<string, string> = {};
    inject(empty, ROOT_CONTEXT);
    assert.deepEqual(empty, {});
  });

  it("round-trips through message headers, baggage included", () => {
    const withBaggage = propagation.setBaggage(
      parent,
      propagation.createBaggage({ tenant: { value: "acme" } }),
    );
    const message: Record<string, string> = {};
    inject(message, withBaggage);
    const back = extract(message, ROOT_CONTEXT) as typeof ROOT_CONTEXT;
    assert.equal(trace.getSpanContext(back)?.traceId, T);
    assert.equal(trace.getSpanContext(back)?.spanId, P);
    assert.equal(
      propagation.getBaggage(back)?.getEntry("tenant")?.value,
      "acme",
    );
  });

  it("sends a truncated tracestate", () => {
    const long = new W3CTraceState(
      Array.from(
        { length: 12 },
        (_, i) => [`k${i}`, "v".repeat(60)] as [string, string],
      ),
    );
    const record: Record<string, string> = {};
    inject(
      record,
      trace.setSpanContext(ROOT_CONTEXT, {
        traceId: T,
        spanId: P,
        traceFlags: 1,
        traceState: long,
      }),
    );
    assert.ok(record.tracestate.length <= 512);
    assert.equal(record.tracestate.split(",").length, 8);
  });
});

describe("why not OpenTelemetry's W3CTraceContextPropagator", () => {
  // Each case is one where that propagator departs from Level 1 and this
  // module's extract follows it (the reason the parser is written here).
  const otel = new W3CTraceContextPropagator();
  const theirs = (carrier: Record<string, string>) =>
    trace.getSpanContext(
      otel.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter),
    );
  const ours = (carrier: Record<string, string>) =>
    spanOf(extract(carrier, ROOT_CONTEXT));

  it("drops a tracestate with a duplicated key or an invalid member", () => {
    for (const tracestate of ["foo=1,foo=2", "FOO=1,bar=2"]) {
      const carrier = { traceparent: TRACEPARENT, tracestate };
      assert.notEqual(theirs(carrier)?.traceState?.serialize(), undefined);
      assert.equal(ours(carrier)?.traceState, undefined);
    }
  });

  it("drops a tracestate of 33 members", () => {
    const tracestate = Array.from({ length: 33 }, (_, i) => `b${i}=1`).join(
      ",",
    );
    const carrier = { traceparent: TRACEPARENT, tracestate };
    assert.equal(
      theirs(carrier)?.traceState?.serialize().split(",").length,
      32,
    );
    assert.equal(ours(carrier)?.traceState, undefined);
  });

  it("accepts tabs and spaces around a traceparent", () => {
    const carrier = { traceparent: `\t ${TRACEPARENT} \t` };
    assert.equal(theirs(carrier), undefined);
    assert.equal(ours(carrier)?.traceId, T);
  });

  it("takes only the sampled flag of a higher version", () => {
    const carrier = { traceparent: `cc-${T}-${P}-03` };
    assert.equal(theirs(carrier)?.traceFlags, 3);
    assert.equal(ours(carrier)?.traceFlags, 1);
  });
});

describe("carrier keys", () => {
  it("lists the names in Headers, records and iterable header objects", () => {
    assert.deepEqual(getter.keys(new Headers({ a: "1", b: "2" })), ["a", "b"]);
    assert.deepEqual(getter.keys({ x: "1" }), ["x"]);
    assert.deepEqual(getter.keys(new Map([["m", "1"]])), ["m"]);
    assert.deepEqual(getter.keys({ get: () => null, set: () => {} }), []);
  });
});
