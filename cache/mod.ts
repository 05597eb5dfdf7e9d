/**
 * Caches for services: Redis, or a bounded LRU in memory (the default, so
 * examples and tests need no server), storing protobuf messages (pass the
 * generated schema) or any `@cqi/codec` codec's values.
 *
 * - {@linkcode createCache} opens one from a `cache` config section, a
 *   `redis://` URL, or nothing (memory).
 * - `get` (a `not_found` error on a miss), `find`, `getMany`, `set` and
 *   `setMany` with a TTL per call, `delete`, `exists`; `key()` builds
 *   escaped, versioned keys.
 * - `getOrLoad` is cache-aside without stampedes: one load per key in the
 *   process and, on Redis, across processes; stale values served from a
 *   grace period when the loader or Redis fails; `not_found` remembered for
 *   `negativeTtl`.
 * - An optional in-process L1 in front of Redis, kept coherent by pub/sub.
 * - {@linkcode CacheHooks} report commands and hits, misses and loads;
 *   `@cqi/service` wires them to logs, metrics and traces.
 *
 * @example Usage
 * ```ts
 * import { createCache } from "@cqi/cache";
 * import { json } from "@cqi/codec";
 *
 * await using cache = createCache("memory://", { service: { name: "cqpm" } });
 * const Price = json<{ bid: number; ask: number }>();
 * let loads = 0;
 * const price = () =>
 *   cache.getOrLoad(cache.key("price", "BTC"), Price, () => {
 *     loads++;
 *     return { bid: 99, ask: 101 };
 *   }, { ttl: 5_000 });
 * await Promise.all([price(), price(), price()]);
 * console.log(await price(), loads); // { bid: 99, ask: 101 } 1
 * ```
 *
 * @module
 */
export { type CacheOptions, createCache } from "./create.ts";
export type { CacheEvent, CacheHooks, CommandInfo } from "./hooks.ts";
export type { KeyBuilder } from "./key.ts";
export type { L1Options } from "./l1.ts";
export type {
  Cache,
  CacheEntry,
  CallOptions,
  GetOrLoadOptions,
  Loader,
  SetOptions,
} from "./types.ts";
