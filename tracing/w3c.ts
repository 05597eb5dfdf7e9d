// W3C Trace Context Level 1 (https://www.w3.org/TR/trace-context/): the
// `traceparent` and `tracestate` value grammars and the processing rules,
// written out because OpenTelemetry's W3CTraceContextPropagator keeps
// invalid tracestate members, duplicate keys and lists over 32 members where
// the recommendation (and its test suite) drops the whole header, and keeps
// the unknown flag bits of a higher version.
import type { TraceState } from "@opentelemetry/api";

/** A parsed `traceparent`: ids and the sampled bit. */
export interface Traceparent {
  traceId: string;
  spanId: string;
  /** Only bit 0 (sampled) is kept: other flags are undefined in version 00. */
  traceFlags: number;
}

/** The longest `tracestate` this module propagates (the spec's minimum). */
export const TRACESTATE_MAX_LENGTH = 512;
/** Entries longer than this go first when a tracestate must be truncated. */
const LARGE_ENTRY = 128;
const MAX_MEMBERS = 32;

const HEX = /^[0-9a-f]+$/;
const ZEROS = /^0+$/;
const OWS = /^[ \t]+|[ \t]+$/g;
// Level 1 keys: a simple key, or tenant@system for multi-tenant vendors.
const KEY =
  /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
// Printable ASCII except `,` and `=`, up to 256, not ending in a space.
const VALUE =
  /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Parses a `traceparent` value, or returns `undefined` when it must be
 * ignored (the caller then starts a new trace): version `ff`, a version
 * prefix that is not two lowercase hex digits and a dash, version 00 with
 * anything after the flags, a higher version whose first four fields do not
 * parse by the version-00 rules (or whose flags are followed by something
 * other than a dash), non-hex or uppercase ids, all-zero ids, and a value
 * holding a comma (two `traceparent` headers combined into one).
 */
export function parseTraceparent(
  value: string | null | undefined,
): Traceparent | undefined {
  if (typeof value !== "string") return undefined;
  const v = value.replace(OWS, "");
  if (v.length < 55 || v.includes(",")) return undefined;
  const version = v.slice(0, 2);
  if (!HEX.test(version) || version === "ff" || v[2] !== "-") return undefined;
  if (version === "00" ? v.length !== 55 : v.length > 55 && v[55] !== "-") {
    return undefined;
  }
  if (v[35] !== "-" || v[52] !== "-") return undefined;
  const traceId = v.slice(3, 35);
  const spanId = v.slice(36, 52);
  const flags = v.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(spanId) || !HEX.test(flags)) {
    return undefined;
  }
  if (ZEROS.test(traceId) || ZEROS.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & 1 };
}

/** Formats ids as a version-00 `traceparent`. */
export function formatTraceparent(
  ids: { traceId: string; spanId: string; traceFlags: number },
): string {
  return `00-${ids.traceId}-${ids.spanId}-0${ids.traceFlags & 1}`;
}

/**
 * Parses a `tracestate` value (several headers joined with commas), or
 * returns `undefined` when the whole header must be dropped: a member that
 * is not `key=value` by the grammar, a duplicate key, or more than 32
 * members. Empty members and optional whitespace are allowed. A valid list
 * longer than 512 characters is truncated (see {@linkcode truncate}).
 */
export function parseTracestate(
  value: string,
): Array<[string, string]> | undefined {
  const entries: Array<[string, string]> = [];
  const keys = new Set<string>();
  for (const raw of value.split(",")) {
    const member = raw.replace(OWS, "");
    if (member === "") continue;
    const eq = member.indexOf("=");
    const key = member.slice(0, eq);
    const val = member.slice(eq + 1);
    if (eq < 1 || !KEY.test(key) || !VALUE.test(val) || keys.has(key)) {
      return undefined;
    }
    keys.add(key);
    if (entries.push([key, val]) > MAX_MEMBERS) return undefined;
  }
  return truncate(entries);
}

/**
 * Cuts a tracestate list to at most `limit` characters by whole entries, as
 * the spec says: entries longer than 128 characters go first (rightmost
 * first), then entries from the end.
 */
export function truncate(
  entries: Array<[string, string]>,
  limit: number = TRACESTATE_MAX_LENGTH,
): Array<[string, string]> {
  const size = (e: [string, string]) => e[0].length + 1 + e[1].length;
  let length = entries.reduce((n, e) => n + size(e), 0) + entries.length - 1;
  if (length <= limit) return entries;
  const out = [...entries];
  const drop = (i: number) => {
    length -= size(out[i]) + (out.length > 1 ? 1 : 0);
    out.splice(i, 1);
  };
  for (let i = out.length - 1; i >= 0 && length > limit; i--) {
    if (size(out[i]) > LARGE_ENTRY) drop(i);
  }
  while (length > limit) drop(out.length - 1);
  return out;
}

/**
 * An immutable tracestate list following the Level 1 rules, implementing
 * the `TraceState` interface of `@opentelemetry/api`: `set` validates the
 * entry and moves it to the front, `serialize` truncates to 512 characters.
 */
export class W3CTraceState implements TraceState {
  readonly #entries: ReadonlyArray<[string, string]>;

  constructor(entries: ReadonlyArray<[string, string]> = []) {
    this.#entries = entries;
  }

  /** Parses a header value; `undefined` when it must be dropped. */
  static parse(value: string): W3CTraceState | undefined {
    const entries = parseTracestate(value);
    return entries === undefined ? undefined : new W3CTraceState(entries);
  }

  set(key: string, value: string): W3CTraceState {
    if (!KEY.test(key) || !VALUE.test(value)) return this;
    const rest = this.#entries.filter(([k]) => k !== key);
    const entries: Array<[string, string]> = [[key, value], ...rest];
    return new W3CTraceState(entries.slice(0, MAX_MEMBERS));
  }

  unset(key: string): W3CTraceState {
    return new W3CTraceState(this.#entries.filter(([k]) => k !== key));
  }

  get(key: string): string | undefined {
    return this.#entries.find(([k]) => k === key)?.[1];
  }

  serialize(): string {
    return truncate([...this.#entries]).map(([k, v]) => `${k}=${v}`).join(",");
  }
}
