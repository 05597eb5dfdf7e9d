// The headers the bus writes on every message: CloudEvents' Kafka binding
// in binary mode (`ce_*` and `content-type`), the W3C trace context, and on
// dead letters the failure. Read back defensively: every value came from
// outside.
import { invalidInput } from "@cqi/errors";

/** Headers the bus owns: a publisher cannot set them. */
const RESERVED = /^(ce_|cqi-)|^(content-type|traceparent|tracestate|baggage)$/i;

/** What the bus says about an event in its headers. */
export interface EventHeaders {
  id: string;
  type: string;
  source: string;
  contentType: string;
  time: Date;
}

/** The headers of a new event, the caller's own after the bus's checks. */
export function eventHeaders(
  event: EventHeaders,
  extra: Record<string, string> | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": event.contentType,
    ce_specversion: "1.0",
    ce_id: event.id,
    ce_type: event.type,
    ce_source: event.source,
    ce_time: event.time.toISOString(),
  };
  if (extra === undefined) return headers;
  if (typeof extra !== "object" || extra === null) {
    throw invalidInput("invalid headers: expected a record of strings");
  }
  for (const [name, value] of Object.entries(extra)) {
    if (RESERVED.test(name)) {
      throw invalidInput(
        `invalid header ${JSON.stringify(name)}: the bus sets it`,
      );
    }
    if (typeof value !== "string" || name === "") {
      throw invalidInput(
        `invalid header ${JSON.stringify(name)}: expected a string value`,
      );
    }
    headers[name] = value;
  }
  return headers;
}

/** The event id, type and time of a received record (absent ones replaced). */
export function readEvent(
  headers: Readonly<Record<string, string>>,
  fallbackId: string,
): { id: string; type: string; time: Date | undefined } {
  const time = headers.ce_time === undefined
    ? undefined
    : new Date(headers.ce_time);
  return {
    id: headers.ce_id || fallbackId,
    type: headers.ce_type ?? "",
    time: time === undefined || Number.isNaN(time.getTime()) ? undefined : time,
  };
}

/** The failure headers of a dead letter. */
export function deadLetterHeaders(
  headers: Readonly<Record<string, string>>,
  failure: {
    kind: string;
    message: string;
    attempts: number;
    topic: string;
    partition: number;
    offset: string;
    group: string;
  },
): Record<string, string> {
  // The original's own `cqi-` headers (which only a foreign producer could
  // have set) go: a dead letter's failure headers are the bus's alone.
  const kept: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    if (!/^cqi-/i.test(name)) kept[name] = headers[name];
  }
  return {
    ...kept,
    "cqi-error-kind": failure.kind,
    "cqi-error-message": failure.message,
    "cqi-attempts": String(failure.attempts),
    "cqi-topic": failure.topic,
    "cqi-partition": String(failure.partition),
    "cqi-offset": failure.offset,
    "cqi-group": failure.group,
  };
}
