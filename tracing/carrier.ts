import type { TextMapGetter, TextMapSetter } from "@opentelemetry/api";

/**
 * Something with `get` and `set` by header name: a `Headers` object, a
 * NATS `MsgHdrs`, a `Map<string, string>`.
 *
 * @example Usage
 * ```ts
 * import type { HeadersLike } from "@cqi/tracing";
 *
 * const headers: HeadersLike = new Headers();
 * ```
 */
export interface HeadersLike {
  /** Reads a header; `null`, `undefined` or `""` when absent. */
  get(name: string): string | null | undefined;
  /** Writes a header, replacing any value. */
  set(name: string, value: string): void;
}

/**
 * A value in a plain-record carrier: a string, bytes (Kafka header values
 * are `Buffer`s), or a list of either when a header was repeated.
 *
 * @example Usage
 * ```ts
 * import type { CarrierValue } from "@cqi/tracing";
 *
 * const value: CarrierValue = new TextEncoder().encode("rojo=00f067aa0ba902b7");
 * ```
 */
export type CarrierValue =
  | string
  | Uint8Array
  | Array<string | Uint8Array>
  | undefined;

/**
 * Where trace context travels: HTTP `Headers` (or anything with
 * `get`/`set`), or a plain record of message headers (Kafka, a job
 * payload). Names are written in lowercase and read in any case.
 *
 * @example Usage
 * ```ts
 * import { type Carrier, inject } from "@cqi/tracing";
 *
 * const kafkaHeaders: Carrier = {};
 * inject(kafkaHeaders); // writes traceparent (and tracestate, baggage) if a span is active
 * ```
 */
export type Carrier = HeadersLike | Record<string, CarrierValue>;

const decoder = new TextDecoder();
const text = (v: string | Uint8Array) =>
  typeof v === "string" ? v : decoder.decode(v);

function isHeadersLike(carrier: Carrier): carrier is HeadersLike {
  return typeof carrier.get === "function" &&
    typeof carrier.set === "function";
}

function recordValue(
  carrier: Record<string, CarrierValue>,
  name: string,
): CarrierValue {
  if (Object.hasOwn(carrier, name)) return carrier[name];
  for (const key of Object.keys(carrier)) {
    if (key.toLowerCase() === name) return carrier[key];
  }
  return undefined;
}

/** Reads carriers: a repeated header comes back as a list of strings. */
export const getter: TextMapGetter<Carrier> = {
  get(carrier, name) {
    if (isHeadersLike(carrier)) return carrier.get(name) || undefined;
    const value = recordValue(carrier, name);
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.map(text) : text(value);
  },
  keys(carrier) {
    if (!isHeadersLike(carrier)) return Object.keys(carrier);
    const iterable = carrier as Partial<Iterable<[string, string]>>;
    if (typeof iterable[Symbol.iterator] !== "function") return [];
    return [...(iterable as Iterable<[string, string]>)].map(([k]) => k);
  },
};

/** Writes carriers. */
export const setter: TextMapSetter<Carrier> = {
  set(carrier, name, value) {
    if (isHeadersLike(carrier)) carrier.set(name, value);
    else carrier[name] = value;
  },
};
