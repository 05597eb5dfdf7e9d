import type { ValueOf, ValueSchema } from "@cqi/codec";
import type { KeyBuilder } from "./key.ts";

/**
 * Options of a single cache call.
 *
 * @example Usage
 * ```ts
 * import type { CallOptions } from "@cqi/cache";
 *
 * const options: CallOptions = { signal: AbortSignal.timeout(100) };
 * ```
 */
export interface CallOptions {
  /** Stops waiting (the call rejects `canceled`; a command already sent still runs). */
  signal?: AbortSignal;
}

/**
 * Options of `set` and `setMany`: the time to live is per call, never a
 * default.
 *
 * @example Usage
 * ```ts
 * import type { SetOptions } from "@cqi/cache";
 *
 * const options: SetOptions = { ttl: 60_000 };
 * ```
 */
export interface SetOptions extends CallOptions {
  /** Milliseconds the value lives (shortened by the cache's `jitter`); `Infinity` for no expiry. */
  ttl: number;
}

/**
 * Options of `getOrLoad`. Durations are milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { GetOrLoadOptions } from "@cqi/cache";
 *
 * // Fresh for a minute; then, for ten more, served when reloading fails.
 * const options: GetOrLoadOptions = { ttl: 60_000, grace: 600_000 };
 * ```
 */
export interface GetOrLoadOptions extends SetOptions {
  /**
   * How long past `ttl` an entry is kept to be served when the loader or
   * Redis fails. With a grace period, a hit in the last tenth of `ttl` also
   * reloads in the background, so hot keys rarely expire. Default 0.
   */
  grace?: number;
  /**
   * How long a `not_found` error of the loader is remembered (the next calls
   * reject with it without loading). Default 0: no error is cached. Other
   * errors are never cached.
   */
  negativeTtl?: number;
  /**
   * How long the loader may hold the cross-process lock, and so how long
   * other processes wait for its value before loading themselves.
   * Default 5 s.
   */
  lockTimeout?: number;
}

/**
 * Loads a value missing from the cache. `signal` aborts when the cache
 * closes.
 *
 * @example Usage
 * ```ts
 * import type { Loader } from "@cqi/cache";
 *
 * const loader: Loader<string> = (signal) =>
 *   fetch("https://example.com", { signal }).then((res) => res.text());
 * ```
 *
 * @typeParam T The value.
 */
export type Loader<T> = (signal: AbortSignal) => T | Promise<T>;

/**
 * An entry of `setMany`.
 *
 * @example Usage
 * ```ts
 * import type { CacheEntry } from "@cqi/cache";
 *
 * const entry: CacheEntry<string> = { key: "cqpm:note:v1:1", value: "hello" };
 * ```
 *
 * @typeParam T The value.
 */
export interface CacheEntry<T> {
  /** The key. */
  key: string;
  /** The value. */
  value: T;
}

/**
 * A cache of encoded values: protobuf messages (pass the generated schema,
 * such as `AssetSchema`), or anything a `@cqi/codec` codec encodes (JSON
 * with a Standard Schema, raw bytes). Every call rejects with a `CqiError`:
 * `not_found` for `get` on a miss, `invalid_input` for a bad key or a value
 * that does not decode, `temporary` when Redis cannot be reached in time.
 *
 * @example Usage
 * ```ts
 * import { json } from "@cqi/codec";
 * import { createCache } from "@cqi/cache";
 *
 * await using cache = createCache("memory://", { service: { name: "cqpm" } });
 * const Note = json<{ text: string }>();
 * const key = cache.key("note", 1);
 * await cache.set(key, Note, { text: "hello" }, { ttl: 60_000 });
 * console.log(await cache.get(key, Note)); // { text: "hello" }
 * console.log(await cache.find(cache.key("note", 2), Note)); // undefined
 * ```
 */
export interface Cache extends AsyncDisposable {
  /** Builds this service's keys: `{service}:{prefix}:v{version}:{part}…`, escaped. */
  readonly key: KeyBuilder;
  /** The value of a fresh entry; rejects `not_found` on a miss. */
  get<S extends ValueSchema>(
    key: string,
    schema: S,
    options?: CallOptions,
  ): Promise<ValueOf<S>>;
  /** The value of a fresh entry, or `undefined` on a miss. */
  find<S extends ValueSchema>(
    key: string,
    schema: S,
    options?: CallOptions,
  ): Promise<ValueOf<S> | undefined>;
  /** Values of many keys in one round trip, `undefined` where missing. */
  getMany<S extends ValueSchema>(
    keys: readonly string[],
    schema: S,
    options?: CallOptions,
  ): Promise<(ValueOf<S> | undefined)[]>;
  /** Stores a value for `ttl` milliseconds. */
  set<S extends ValueSchema>(
    key: string,
    schema: S,
    value: ValueOf<S>,
    options: SetOptions,
  ): Promise<void>;
  /** Stores many values, each for `ttl`, in one round trip. */
  setMany<S extends ValueSchema>(
    entries: readonly CacheEntry<ValueOf<S>>[],
    schema: S,
    options: SetOptions,
  ): Promise<void>;
  /** Removes keys; resolves to how many existed. */
  delete(
    keys: string | readonly string[],
    options?: CallOptions,
  ): Promise<number>;
  /** Whether a key holds an entry (fresh or kept for grace). */
  exists(key: string, options?: CallOptions): Promise<boolean>;
  /**
   * Cache-aside: the fresh value, else the loader's (stored for `ttl`).
   * Concurrent calls for one key share one load in this process, and with
   * Redis one load across processes (a short lock). With `grace`, a stale
   * value is served when the loader or Redis fails. When Redis is down the
   * loader is called directly.
   */
  getOrLoad<S extends ValueSchema>(
    key: string,
    schema: S,
    loader: Loader<ValueOf<S>>,
    options: GetOrLoadOptions,
  ): Promise<ValueOf<S>>;
  /** Resolves when the backend answers (Redis `PING`); rejects `temporary`. */
  check(signal?: AbortSignal): Promise<void>;
  /** Waits for running loads (up to `closeTimeout`), then closes connections. Idempotent. */
  close(): Promise<void>;
}
