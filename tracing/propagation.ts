import {
  type Context,
  context,
  isSpanContextValid,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";
import {
  CompositePropagator,
  isTracingSuppressed,
  W3CBaggagePropagator,
} from "@opentelemetry/core";
import { type Carrier, getter, setter } from "./carrier.ts";
import type { TracingContext } from "./types.ts";
import { formatTraceparent, parseTraceparent, W3CTraceState } from "./w3c.ts";

const TRACEPARENT = "traceparent";
const TRACESTATE = "tracestate";

/** W3C Trace Context (Level 1) as an OpenTelemetry propagator. */
export class TraceContextPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, set: TextMapSetter): void {
    const span = trace.getSpanContext(ctx);
    if (span === undefined || !isSpanContextValid(span)) return;
    if (isTracingSuppressed(ctx)) return;
    set.set(carrier, TRACEPARENT, formatTraceparent(span));
    const state = span.traceState?.serialize();
    if (state) set.set(carrier, TRACESTATE, state);
  }

  extract(ctx: Context, carrier: unknown, get: TextMapGetter): Context {
    const header = get.get(carrier, TRACEPARENT);
    // Two traceparent headers are invalid, whether listed or comma-joined.
    const parent = parseTraceparent(
      Array.isArray(header) ? header.length === 1 ? header[0] : "," : header,
    );
    if (parent === undefined) return ctx; // tracestate is not even read
    const raw = get.get(carrier, TRACESTATE);
    const state = raw === undefined
      ? undefined
      : W3CTraceState.parse(Array.isArray(raw) ? raw.join(",") : raw);
    return trace.setSpanContext(ctx, {
      ...parent,
      isRemote: true,
      traceState: state,
    });
  }

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE];
  }
}

/** Trace context plus W3C baggage: what CQI reads and writes everywhere. */
export const propagator: TextMapPropagator = new CompositePropagator({
  propagators: [new TraceContextPropagator(), new W3CBaggagePropagator()],
});

/**
 * Writes the trace context of `ctx` (default: the active one) into
 * `carrier`: `traceparent`, `tracestate` when there is one, and `baggage`.
 * Nothing is written when there is no valid span in the context. Use it for
 * message headers and for HTTP clients other than {@linkcode tracedFetch}.
 *
 * @example Usage
 * ```ts
 * import { context, trace } from "@opentelemetry/api";
 * import { inject } from "@cqi/tracing";
 *
 * const parent = trace.setSpanContext(context.active(), {
 *   traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
 *   spanId: "00f067aa0ba902b7",
 *   traceFlags: 1,
 * });
 * const headers: Record<string, string> = {};
 * inject(headers, parent);
 * console.log(headers.traceparent);
 * // "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
 * ```
 *
 * @param carrier Headers or a plain record to write into.
 * @param ctx The context to propagate. Default: the active one.
 */
export function inject(
  carrier: Carrier,
  ctx: TracingContext = context.active(),
): void {
  propagator.inject(ctx as Context, carrier, setter as TextMapSetter);
}

/**
 * Reads a caller's trace context from incoming headers. `traceparent`,
 * `tracestate` and `baggage` from `carrier` go into a copy of `ctx`
 * (default: the active context), following W3C Trace Context
 * Level 1: a missing, malformed or all-zero `traceparent` adds no parent (so
 * a span started in the result begins a new trace), an invalid `tracestate`
 * is dropped and an over-long one truncated. Never throws.
 *
 * @example Usage
 * ```ts
 * import { extract, startSpan } from "@cqi/tracing";
 *
 * const headers = {
 *   traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
 * };
 * startSpan("orders.process", () => {
 *   // runs in a span whose parent is the message's producer
 * }, { "messaging.system": "kafka" }, { kind: "consumer", parent: extract(headers) });
 * ```
 *
 * @param carrier Headers or a plain record to read.
 * @param ctx The context to extend. Default: the active one.
 * @returns The context holding the remote parent and baggage.
 */
export function extract(
  carrier: Carrier,
  ctx: TracingContext = context.active(),
): TracingContext {
  return propagator.extract(ctx as Context, carrier, getter as TextMapGetter);
}
