// The arguments both drivers send, before each client's own call syntax.
import { Buffer } from "node:buffer";
import { permanent } from "@cqi/errors";
import type { RedisEntry } from "./redis_driver.ts";

/** Compare-and-delete in one EVAL: KEYS[1] is the key, ARGV[1] the token. */
export const DELETE_IF_EQUALS =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/** One SET: the value's bytes, and PX (undefined for no expiry). */
export interface SetArgs {
  key: string;
  value: Buffer;
  px: number | undefined;
}

/**
 * The SETs of `entries`, every TTL checked before anything is sent.
 *
 * @throws {CqiError} `permanent`, for a TTL that is not positive.
 */
export function setArgs(entries: RedisEntry[]): SetArgs[] {
  return entries.map(({ key, value, ttl }) => ({
    key,
    // the view's bytes only, not copied
    value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
    px: ttl === Infinity ? undefined : px(ttl),
  }));
}

/**
 * A TTL as PX: whole milliseconds, rounded up (not to 0).
 *
 * @throws {CqiError} `permanent`, for a TTL that is not positive and finite.
 */
export function px(ttl: number): number {
  if (!(ttl > 0) || ttl === Infinity) {
    throw permanent("redis SET failed: ttl must be positive and finite");
  }
  return Math.ceil(ttl);
}

/**
 * A plain Uint8Array view of a client's Buffer: no copy (a Buffer is a view
 * of the socket's read chunk; whoever keeps the bytes copies them).
 */
export function asView(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
