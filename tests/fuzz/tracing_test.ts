// Fuzzing the W3C trace-context parsers (issue 20): `traceparent`,
// `tracestate` and `baggage` from HTTP headers and from message-header
// records, through `extract`, `inject` and the `httpTracing` middleware.
// Never a throw; a parent only from a valid `traceparent`; a propagated
// tracestate always valid and at most 512 characters.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { trace } from "@opentelemetry/api";
import { applyMiddleware } from "@cqi/http";
import {
  type Carrier,
  createTracing,
  extract,
  httpTracing,
  inject,
  type SpanExporterLike,
} from "@cqi/tracing";
import {
  anyChar,
  headerChar,
  headerValue,
  hostileString,
  latin1,
  mutated,
  RUNS,
  TIMEOUT,
} from "./_hostile.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";
const TRACEPARENTS = [
  `00-${TRACE}-${SPAN}-01`,
  `00-${TRACE}-${SPAN}-00`,
  `01-${TRACE}-${SPAN}-09-future`,
  `cc-${TRACE}-${SPAN}-ff`,
  `ff-${TRACE}-${SPAN}-01`,
  `00-${"0".repeat(32)}-${SPAN}-01`,
  ` 00-${TRACE}-${SPAN}-01\t`,
];
const TRACESTATES = [
  "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
  "a@b=x, c=d ,,e=f",
  `k=${"v".repeat(250)},j=1`,
  "x=y,x=z",
];
const BAGGAGES = ["k=v;p=1,k2=%20v", "a=%E2%82%AC,b=%zz", "=,;;=x"];

// A tracestate built member by member: keys and values near the grammar.
const member = fc.tuple(
  mutated(
    fc.constantFrom("rojo", "t@s", "a-b_c*d/e", "k".repeat(256)),
    anyChar,
    2,
  ),
  mutated(
    fc.constantFrom("00f067aa", "v a l", "x".repeat(256), ""),
    anyChar,
    2,
  ),
  fc.constantFrom("=", "=", "==", "", " = "),
).map(([key, value, eq]) => key + eq + value);
const tracestate = fc.oneof(
  hostileString(...TRACESTATES),
  fc.array(member, { maxLength: 40 }).map((m) => m.join(",")),
  fc.array(fc.constantFrom("k=v", "", " ", "a=b"), { maxLength: 40 }).map((m) =>
    m.map((x, i) => x.replace("k", `k${i}`)).join(",")
  ),
);

const VERSION_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const TRACESTATE_MEMBER =
  /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** What every extracted context must satisfy, given the header it came from. */
function checkExtracted(
  ctx: unknown,
  traceparent: string | undefined,
): void {
  const span = trace.getSpanContext(ctx as never);
  const header = traceparent?.replace(/^[ \t]+|[ \t]+$/g, "");
  const v00 = header === undefined ? null : VERSION_00.exec(header);
  if (v00 !== null && !/^0+$/.test(v00[1]) && !/^0+$/.test(v00[2])) {
    // A valid version-00 header is always taken, exactly.
    assert.ok(span !== undefined, `valid ${JSON.stringify(header)} ignored`);
    assert.equal(span.traceId, v00[1]);
    assert.equal(span.spanId, v00[2]);
    assert.equal(span.traceFlags, parseInt(v00[3], 16) & 1);
  }
  if (span === undefined) return;
  assert.match(span.traceId, /^[0-9a-f]{32}$/);
  assert.match(span.spanId, /^[0-9a-f]{16}$/);
  assert.doesNotMatch(span.traceId, /^0+$/);
  assert.doesNotMatch(span.spanId, /^0+$/);
  assert.ok(span.traceFlags === 0 || span.traceFlags === 1);
  assert.equal(span.isRemote, true);
  const state = span.traceState?.serialize();
  if (state !== undefined && state !== "") {
    assert.ok(state.length <= 512, `tracestate of ${state.length}`);
    for (const m of state.split(",")) {
      assert.match(m, TRACESTATE_MEMBER);
    }
  }
  // What is propagated onwards is a valid version-00 header again.
  const out: Record<string, string> = {};
  inject(out, ctx as never);
  assert.match(out.traceparent, VERSION_00);
}

const discard: SpanExporterLike = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};

describe("fuzz: trace context", () => {
  it("regression: a valid version-00 traceparent is taken", () => {
    const ctx = extract({ traceparent: `00-${TRACE}-${SPAN}-01` });
    checkExtracted(ctx, `00-${TRACE}-${SPAN}-01`);
    assert.equal(trace.getSpanContext(ctx as never)?.traceId, TRACE);
  });

  it(`extract() from Headers never throws (${RUNS} cases)`, {
    timeout: TIMEOUT,
  }, () => {
    fc.assert(
      fc.property(
        fc.option(headerValue(...TRACEPARENTS), { nil: undefined }),
        fc.option(tracestate.map((s) => latin1(s)), { nil: undefined }),
        fc.option(headerValue(...BAGGAGES), { nil: undefined }),
        fc.boolean(),
        (traceparent, state, baggage, twice) => {
          const headers = new Headers();
          if (traceparent !== undefined) {
            headers.append("traceparent", traceparent);
            if (twice) headers.append("traceparent", traceparent);
          }
          if (state !== undefined) headers.append("tracestate", state);
          if (baggage !== undefined) headers.append("baggage", baggage);
          const ctx = extract(headers);
          checkExtracted(ctx, headers.get("traceparent") ?? undefined);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`extract() from message-header records never throws (${RUNS} cases)`, {
    timeout: TIMEOUT,
  }, () => {
    const value = fc.oneof(
      hostileString(...TRACEPARENTS),
      tracestate,
      hostileString(...BAGGAGES),
    );
    const carrierValue = fc.oneof(
      value,
      value.map((s) => new TextEncoder().encode(s)),
      fc.uint8Array({ maxLength: 64 }),
      fc.array(fc.oneof(value, fc.uint8Array({ maxLength: 16 })), {
        maxLength: 3,
      }),
      fc.constant(undefined),
    );
    const name = fc.constantFrom(
      "traceparent",
      "TraceParent",
      "tracestate",
      "TRACESTATE",
      "baggage",
      "get",
      "set",
      "__proto__",
      "constructor",
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(name, carrierValue), { maxLength: 6 }),
        (entries) => {
          const carrier: Record<string, unknown> = {};
          for (const [k, v] of entries) {
            Object.defineProperty(carrier, k, {
              value: v,
              enumerable: true,
              configurable: true,
              writable: true,
            });
          }
          const ctx = extract(carrier as Carrier);
          const span = trace.getSpanContext(ctx as never);
          if (span !== undefined) {
            const raw = carrier.traceparent;
            checkExtracted(ctx, typeof raw === "string" ? raw : undefined);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(
    `httpTracing answers the handler's response for any headers (${RUNS} cases)`,
    {
      timeout: TIMEOUT,
    },
    async () => {
      await using _tracing = createTracing({
        service: { name: "fuzz" },
        exporter: discard,
        sampler: "always",
      });
      const handler = applyMiddleware(
        () => {
          const out: Record<string, string> = {};
          inject(out);
          assert.match(out.traceparent, VERSION_00);
          return Promise.resolve(new Response("ok"));
        },
        httpTracing({ returnTraceparent: true }),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.option(headerValue(...TRACEPARENTS), { nil: undefined }),
          fc.option(tracestate.map(latin1), { nil: undefined }),
          fc.option(headerValue(...BAGGAGES), { nil: undefined }),
          fc.option(fc.string({ unit: headerChar, maxLength: 40 }), {
            nil: undefined,
          }),
          fc.constantFrom("GET", "POST", "PROPFIND", "get", "X-Y"),
          async (traceparent, state, baggage, ua, method) => {
            const headers = new Headers();
            if (traceparent !== undefined) {
              headers.append("traceparent", traceparent);
            }
            if (state !== undefined) headers.append("tracestate", state);
            if (baggage !== undefined) headers.append("baggage", baggage);
            if (ua !== undefined) headers.append("user-agent", ua);
            const res = await handler(
              new Request("http://h/x", { method, headers }),
            );
            assert.equal(res.status, 200);
            assert.equal(await res.text(), "ok");
            assert.match(res.headers.get("traceparent") ?? "", VERSION_00);
          },
        ),
        { numRuns: RUNS },
      );
    },
  );
});
