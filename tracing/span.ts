import {
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { tracer } from "./state.ts";
import type {
  ActiveSpan,
  Attributes,
  SpanKindName,
  TracingContext,
} from "./types.ts";

/**
 * Options for {@linkcode startSpan}.
 *
 * @example Usage
 * ```ts
 * import { extract, type StartSpanOptions } from "@cqi/tracing";
 *
 * const options: StartSpanOptions = {
 *   kind: "consumer",
 *   parent: extract({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" }),
 * };
 * ```
 */
export interface StartSpanOptions {
  /** The span kind. Default `internal`. */
  kind?: SpanKindName;
  /**
   * The context whose span is the parent, such as one from
   * {@linkcode extract} for a consumed message. Default: the active context.
   */
  parent?: TracingContext;
}

const KINDS: Record<SpanKindName, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

/**
 * Runs `fn` inside a new child span of the active one (or of
 * `options.parent`): the span is active in everything `fn` calls, across
 * `await`s. It ends when `fn` returns or, for a promise, settles; a throw
 * or rejection is recorded as an exception event, sets the span's status
 * to error, and is rethrown unchanged. Without `createTracing` (and without
 * Deno's built-in OpenTelemetry) `fn` just runs, with a span that records
 * nothing.
 *
 * @example Usage
 * ```ts
 * import { addEvent, startSpan } from "@cqi/tracing";
 *
 * const price = await startSpan("price.lookup", async (span) => {
 *   addEvent("cache.miss", { "cache.key": "BTC" });
 *   span.setAttribute("price.source", "exchange");
 *   return 101.5;
 * }, { "asset.id": "BTC" });
 * console.log(price); // 101.5
 * ```
 *
 * @typeParam R What `fn` returns (a promise is awaited before the span ends).
 * @param name The span name: low-cardinality, such as `orders.insert`.
 * @param fn The work, given its span.
 * @param attributes Attributes set when the span starts.
 * @param options The kind and the parent context.
 * @returns What `fn` returns.
 */
export function startSpan<R>(
  name: string,
  fn: (span: ActiveSpan) => R,
  attributes?: Attributes,
  options: StartSpanOptions = {},
): R {
  const parent = (options.parent ?? context.active()) as Context;
  const t = tracer();
  if (t === undefined) {
    const span = trace.getSpan(parent) ??
      trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    return context.with(parent, fn, undefined, span);
  }
  const span = t.startSpan(name, {
    kind: KINDS[options.kind ?? "internal"] ?? SpanKind.INTERNAL,
    attributes,
  }, parent);
  let result: R;
  try {
    result = context.with(trace.setSpan(parent, span), fn, undefined, span);
  } catch (error) {
    recordError(span, error);
    span.end();
    throw error;
  }
  if (!isThenable(result)) {
    span.end();
    return result;
  }
  return result.then((value) => {
    span.end();
    return value;
  }, (error) => {
    recordError(span, error);
    span.end();
    throw error;
  }) as R;
}

/**
 * Records an event (a cache hit or miss, a query, a retry) on the active
 * span. Does nothing when no span is active or it is not recorded.
 *
 * @example Usage
 * ```ts
 * import { addEvent, startSpan } from "@cqi/tracing";
 *
 * startSpan("quote", () => {
 *   addEvent("cache.hit", { "cache.key": "quote:BTC" });
 * });
 * ```
 *
 * @param name The event name.
 * @param attributes The event's attributes.
 */
export function addEvent(name: string, attributes?: Attributes): void {
  trace.getActiveSpan()?.addEvent(name, attributes);
}

/** Spans with a recorded error (their `error.type` is already set). */
export const failed: WeakSet<Span> = new WeakSet();

/**
 * Records `error` on `span`: an `exception` event (type, message, stack),
 * `error.type`, and status error with the message.
 */
export function recordError(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  failed.add(span);
  const e = error instanceof Error
    ? error
    : { name: typeof error, message: String(error) };
  span.recordException(e);
  span.setAttribute("error.type", e.name || "_OTHER");
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then ===
    "function";
}
