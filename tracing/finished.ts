import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { Attributes, SpanKindName } from "./types.ts";

/**
 * A finished span as the `memory` exporter keeps it, for tests.
 *
 * @example Usage
 * ```ts
 * import type { FinishedSpan } from "@cqi/tracing";
 *
 * const isServer = (span: FinishedSpan) => span.kind === "server";
 * ```
 */
export interface FinishedSpan {
  /** The span name. */
  name: string;
  /** The span kind. */
  kind: SpanKindName;
  /** The trace id, 32 hex digits. */
  traceId: string;
  /** The span id, 16 hex digits. */
  spanId: string;
  /** The parent's span id; `undefined` for a root span. */
  parentSpanId: string | undefined;
  /** The span's attributes. */
  attributes: Readonly<Attributes>;
  /** `unset`, `ok` or `error`, with the error's message. */
  status: { code: "unset" | "ok" | "error"; message?: string };
  /** The events recorded on the span (`exception` for recorded errors). */
  events: Array<{ name: string; attributes: Readonly<Attributes> }>;
  /** The resource: `service.name`, `service.version` and the rest. */
  resource: Readonly<Attributes>;
  /** How long the span lasted, in milliseconds. */
  duration: number;
}

const KIND_NAMES: Record<number, SpanKindName> = {
  [SpanKind.INTERNAL]: "internal",
  [SpanKind.SERVER]: "server",
  [SpanKind.CLIENT]: "client",
  [SpanKind.PRODUCER]: "producer",
  [SpanKind.CONSUMER]: "consumer",
};

const STATUS_NAMES: Record<number, "unset" | "ok" | "error"> = {
  [SpanStatusCode.UNSET]: "unset",
  [SpanStatusCode.OK]: "ok",
  [SpanStatusCode.ERROR]: "error",
};

/** Converts an SDK span to a {@linkcode FinishedSpan}. */
export function finishedSpan(span: ReadableSpan): FinishedSpan {
  const ids = span.spanContext();
  return {
    name: span.name,
    kind: KIND_NAMES[span.kind] ?? "internal",
    traceId: ids.traceId,
    spanId: ids.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    attributes: span.attributes as Attributes,
    status: {
      code: STATUS_NAMES[span.status.code] ?? "unset",
      ...span.status.message === undefined
        ? {}
        : { message: span.status.message },
    },
    events: span.events.map((e) => ({
      name: e.name,
      attributes: (e.attributes ?? {}) as Attributes,
    })),
    resource: span.resource.attributes as Attributes,
    duration: span.duration[0] * 1e3 + span.duration[1] / 1e6,
  };
}
