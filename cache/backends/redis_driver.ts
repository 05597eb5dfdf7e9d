// The small surface CQI's cache needs from a Redis client. One file per
// client implements it (redis_node.ts for node-redis, redis_io.ts for
// ioredis); the Redis backend uses nothing else of the client.
//
// Every method resolves or rejects within the command timeout and never
// hangs; a rejection is a CqiError from @cqi/errors: `temporary` for a
// refused, lost or timed-out connection (or a client that is closed),
// `permanent` for a server error reply (WRONGTYPE, NOAUTH after connect,
// ...). Nothing is queued while the client is disconnected: a call then
// fails at once as `temporary`, and the client keeps reconnecting in the
// background (capped backoff) until close(). No client event ever becomes
// an unhandled error.

/** One SET of {@linkcode RedisDriver.setMany}. */
export interface RedisEntry {
  /** The key. */
  key: string;
  /** The value's bytes. */
  value: Uint8Array;
  /** Milliseconds to live (PX); Infinity for no expiry. */
  ttl: number;
}

/** How to reach the server. */
export interface RedisDriverOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://` (TLS). */
  url: string;
  /** Milliseconds allowed to open a connection. */
  connectionTimeout: number;
  /** Milliseconds allowed for one command, round trip. */
  commandTimeout: number;
  /** CLIENT SETNAME, if given. */
  name?: string;
}

/** A connected Redis client, as the cache sees it. */
export interface RedisDriver {
  /**
   * MGET: one value (or null) per key, in order. A value may be a view of
   * memory the client or the backend goes on using: read it at once, copy
   * what you keep, never write to it.
   */
  getMany(keys: string[]): Promise<(Uint8Array | null)[]>;
  /**
   * For a backend in this process (memory): the value now, without a
   * promise (null on a miss). Absent on Redis.
   */
  getNow?(key: string): Uint8Array | null;
  /** SET key value [PX ttl] for every entry, in one round trip. */
  setMany(entries: RedisEntry[]): Promise<void>;
  /** DEL: how many of the keys existed. */
  delete(keys: string[]): Promise<number>;
  /** EXISTS: how many of the keys exist. */
  exists(keys: string[]): Promise<number>;
  /** SET key token NX PX ttl: true when this call set it. */
  setIfAbsent(key: string, token: string, ttl: number): Promise<boolean>;
  /** Deletes key only while its value is token (one EVAL): true if deleted. */
  deleteIfEquals(key: string, token: string): Promise<boolean>;
  /** PUBLISH. */
  publish(channel: string, message: string): Promise<void>;
  /**
   * SUBSCRIBE on a connection of its own (opened on first call). `onMessage`
   * gets each message; `onReconnect` is called each time the subscription is
   * back after a lost connection (messages sent meanwhile are lost, so the
   * caller must assume anything changed).
   */
  subscribe(
    channel: string,
    onMessage: (message: string) => void,
    onReconnect: () => void,
  ): Promise<void>;
  /** PING. */
  ping(): Promise<void>;
  /** Closes every connection; pending calls settle; idempotent. */
  close(): Promise<void>;
}
