// The tracer behind `sampler: "never"`. The SDK's tracer under its
// AlwaysOffSampler answers every startSpan with a non-recording span that
// carries fresh ids (the parent's trace id, or a new one) and no sampled
// flag; this one gives exactly that without the sampler call, the SDK's span
// bookkeeping and its Buffer-based id encoding, which is what `never` costs
// per request (bench/tracing.sh).
import {
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  type Span,
  type SpanOptions,
  trace,
  TraceFlags,
  type Tracer,
} from "@opentelemetry/api";
import { isTracingSuppressed } from "@opentelemetry/core";

const HEX = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** `words` × 32 random bits as lowercase hex, never all zeros. */
function randomHex(words: number): string {
  let out = "";
  let any = 0;
  for (let i = 0; i < words; i++) {
    const r = (Math.random() * 4294967296) >>> 0;
    any |= r;
    out += HEX[r >>> 24] + HEX[(r >>> 16) & 255] + HEX[(r >>> 8) & 255] +
      HEX[r & 255];
  }
  return any === 0 ? out.slice(0, -1) + "1" : out;
}

/**
 * A tracer whose spans are never recorded, with the ids and flags the SDK
 * gives a span its sampler drops. `fallback` (the SDK's own tracer) serves
 * `startActiveSpan`, which CQI does not call on the request path.
 */
export function unsampledTracer(fallback: Tracer): Tracer {
  return {
    startSpan(
      _name: string,
      options: SpanOptions = {},
      ctx: Context = context.active(),
    ): Span {
      if (isTracingSuppressed(ctx)) {
        return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
      }
      const parent = options.root ? undefined : trace.getSpanContext(ctx);
      const valid = parent !== undefined && isSpanContextValid(parent);
      return trace.wrapSpanContext({
        traceId: valid ? parent.traceId : randomHex(4),
        spanId: randomHex(2),
        traceFlags: TraceFlags.NONE,
        traceState: valid ? parent.traceState : undefined,
      });
    },
    startActiveSpan: fallback.startActiveSpan.bind(fallback),
  };
}
