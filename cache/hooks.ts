import type { CqiError } from "@cqi/errors";

/**
 * A backend round trip about to run, as the {@linkcode CacheHooks} see it:
 * never a key or a value.
 *
 * @example Usage
 * ```ts
 * import type { CommandInfo } from "@cqi/cache";
 *
 * const info: CommandInfo = { operation: "get", namespace: "asset", system: "redis", keys: 1 };
 * ```
 */
export interface CommandInfo {
  /** `get`, `get_many`, `set`, `set_many`, `delete`, `exists`, `lock`, `unlock`, `publish` or `ping`. */
  operation: string;
  /** The first key's namespace: the prefix given to `key()`, or `other`. */
  namespace: string;
  /** `redis` or `memory` (OpenTelemetry's `db.system.name`). */
  system: "redis" | "memory";
  /** How many keys the command carries. */
  keys: number;
  /** Server host, for Redis. */
  serverAddress?: string;
  /** Server port, for Redis. */
  serverPort?: number;
}

/**
 * What happened to a lookup or a load, for counting:
 * - `hit`, with `tier` `l1` (in this process: the L1 tier, or the memory
 *   backend) or `l2` (Redis);
 * - `miss`: no fresh value; `stale`: a miss that `getOrLoad` then answered
 *   with a value kept for grace (so it is counted as a miss too);
 * - `load`: the loader ran (`duration` ms; `error` if it failed);
 * - `error`: the backend failed and the cache went on without it
 *   (getOrLoad loading directly, a failed invalidation, a failed refresh).
 *
 * @example Usage
 * ```ts
 * import type { CacheEvent } from "@cqi/cache";
 *
 * const event: CacheEvent = { type: "hit", namespace: "asset", tier: "l1" };
 * ```
 */
export interface CacheEvent {
  /** What happened. */
  type: "hit" | "miss" | "stale" | "load" | "error";
  /** The key's namespace: the prefix given to `key()`, or `other`. */
  namespace: string;
  /** Where a hit came from: the in-process tier or the backend. */
  tier?: "l1" | "l2";
  /** Milliseconds the loader took. */
  duration?: number;
  /** Why a load or the backend failed. */
  error?: CqiError;
  /** For `error`: the operation that failed. */
  operation?: string;
}

/**
 * Observation points of a cache, so that it reports to logs, metrics and
 * traces without importing them: `@cqi/service`'s `cacheHooks()` builds
 * them; spread them into the `createCache` options.
 *
 * @example Count hits and misses
 * ```ts
 * import { json } from "@cqi/codec";
 * import { type CacheHooks, createCache } from "@cqi/cache";
 *
 * const counts: Record<string, number> = {};
 * const hooks: CacheHooks = {
 *   onEvent: (event) => {
 *     counts[event.type] = (counts[event.type] ?? 0) + 1;
 *   },
 * };
 * await using cache = createCache("memory://", hooks);
 * await cache.find("k", json());
 * console.log(counts); // { miss: 1 }
 * ```
 */
export interface CacheHooks {
  /**
   * Wraps every backend round trip: call `run()` once and return what it
   * returns; it rejects with the command's `CqiError`.
   */
  onCommand?: (
    info: Readonly<CommandInfo>,
    run: () => Promise<unknown>,
  ) => Promise<unknown>;
  /** Called for each hit, miss, stale value served, load and tolerated failure. */
  onEvent?: (event: CacheEvent) => void;
}
