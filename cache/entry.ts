// How the cache stores a value: a 17-byte header, then the value's bytes.
//   byte 0      what it is: VALUE, or MISSING (a cached not_found of
//               getOrLoad's negativeTtl, whose bytes are the message)
//   bytes 1-8   until when it is fresh: float64, milliseconds since the
//               epoch (wall clock, shared by every process); Infinity for ever
//   bytes 9-16  until when it is kept for grace (the same clock), at least
//               the fresh time: past it the entry is gone
// A stale entry (fresh time passed, grace not) is served only when a fresh
// one cannot be had.

const HEADER = 17;
/** Kind byte of a value. */
export const VALUE = 1;
/** Kind byte of a cached "not found". */
export const MISSING = 2;

/** A stored entry, read back. */
export interface Entry {
  kind: typeof VALUE | typeof MISSING;
  /** Fresh until this time (ms since the epoch). */
  freshUntil: number;
  /** Kept (for grace) until this time. */
  staleUntil: number;
  /** The value's bytes (a view into the stored bytes). */
  bytes: Uint8Array;
}

/** Wraps a value's bytes for storing. */
export function encodeEntry(
  kind: Entry["kind"],
  freshUntil: number,
  staleUntil: number,
  bytes: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(HEADER + bytes.length);
  out[0] = kind;
  const view = new DataView(out.buffer);
  view.setFloat64(1, freshUntil);
  view.setFloat64(9, staleUntil);
  out.set(bytes, HEADER);
  return out;
}

/** Reads a stored entry; undefined when the bytes are not one of ours. */
export function decodeEntry(stored: Uint8Array): Entry | undefined {
  if (stored.length < HEADER) return undefined;
  const kind = stored[0];
  if (kind !== VALUE && kind !== MISSING) return undefined;
  const view = new DataView(stored.buffer, stored.byteOffset, HEADER);
  const freshUntil = view.getFloat64(1);
  const staleUntil = view.getFloat64(9);
  if (Number.isNaN(freshUntil) || !(staleUntil >= freshUntil)) return undefined;
  return { kind, freshUntil, staleUntil, bytes: stored.subarray(HEADER) };
}
