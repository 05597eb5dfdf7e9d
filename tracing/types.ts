/**
 * A span attribute value: a string, number, boolean, or a homogeneous array
 * of them (the OpenTelemetry attribute types).
 *
 * @example Usage
 * ```ts
 * import type { AttributeValue } from "@cqi/tracing";
 *
 * const value: AttributeValue = ["a", "b"];
 * ```
 */
export type AttributeValue =
  | string
  | number
  | boolean
  | string[]
  | number[]
  | boolean[];

/**
 * Span or event attributes; `undefined` values are ignored.
 *
 * @example Usage
 * ```ts
 * import type { Attributes } from "@cqi/tracing";
 *
 * const attributes: Attributes = { "db.system.name": "postgresql", rows: 3 };
 * ```
 */
export type Attributes = Record<string, AttributeValue | undefined>;

/**
 * The kind of a span, as in OpenTelemetry: `internal` work, the `server` or
 * `client` side of a call, or the `producer` or `consumer` of a message.
 *
 * @example Usage
 * ```ts
 * import type { SpanKindName } from "@cqi/tracing";
 *
 * const kind: SpanKindName = "consumer";
 * ```
 */
export type SpanKindName =
  | "internal"
  | "server"
  | "client"
  | "producer"
  | "consumer";

/**
 * What identifies a span across processes: the W3C trace id (32 lowercase
 * hex digits), span id (16) and trace flags (bit 0: sampled).
 *
 * @example Usage
 * ```ts
 * import type { SpanIds } from "@cqi/tracing";
 *
 * const ids: SpanIds = {
 *   traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
 *   spanId: "00f067aa0ba902b7",
 *   traceFlags: 1,
 * };
 * ```
 */
export interface SpanIds {
  /** The trace id, 32 lowercase hex digits. */
  traceId: string;
  /** The span id, 16 lowercase hex digits. */
  spanId: string;
  /** Trace flags; `1` when sampled. */
  traceFlags: number;
}

/**
 * The span {@linkcode startSpan} passes to its function: an OpenTelemetry
 * span, seen through the methods a service needs (the value is the real
 * `@opentelemetry/api` span).
 *
 * @example Usage
 * ```ts
 * import { type ActiveSpan, startSpan } from "@cqi/tracing";
 *
 * startSpan("price.compute", (span: ActiveSpan) => {
 *   span.setAttribute("asset.id", "BTC");
 *   span.addEvent("cache.miss");
 * });
 * ```
 */
export interface ActiveSpan {
  /** The span's ids; valid even when it is not recorded. */
  spanContext(): SpanIds;
  /** Whether the span is recorded (sampled), so attributes are worth computing. */
  isRecording(): boolean;
  /** Sets one attribute. */
  setAttribute(key: string, value: AttributeValue): unknown;
  /** Sets several attributes. */
  setAttributes(attributes: Attributes): unknown;
  /** Records a named event, now. */
  addEvent(name: string, attributes?: Attributes): unknown;
  /** Renames the span. */
  updateName(name: string): unknown;
}

/**
 * An OpenTelemetry context (immutable): what {@linkcode extract} returns and
 * {@linkcode inject} reads. Structurally the `Context` of
 * `@opentelemetry/api`, so values pass between the two freely.
 *
 * @example Usage
 * ```ts
 * import { extract, type TracingContext } from "@cqi/tracing";
 *
 * const parent: TracingContext = extract({
 *   traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
 * });
 * ```
 */
export interface TracingContext {
  /** Reads a value. */
  getValue(key: symbol): unknown;
  /** Returns a copy with a value set. */
  setValue(key: symbol, value: unknown): TracingContext;
  /** Returns a copy without a value. */
  deleteValue(key: symbol): TracingContext;
}
