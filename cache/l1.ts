import { Lru, type LruLimits } from "./lru.ts";

/**
 * Limits of the in-process tier in front of Redis.
 *
 * @example Usage
 * ```ts
 * import type { L1Options } from "@cqi/cache";
 *
 * const l1: L1Options = { maxEntries: 10_000, maxBytes: 16 * 1024 * 1024, ttl: 30_000 };
 * ```
 */
export interface L1Options {
  /** Most entries kept. Default 10,000. */
  maxEntries?: number;
  /** Most bytes of keys and values kept. Default 64 MiB. */
  maxBytes?: number;
  /**
   * Longest an entry stays without Redis being asked again: the bound on
   * staleness if an invalidation is lost. Default 60 s.
   */
  ttl?: number;
}

/**
 * The in-process tier: stored entries (the bytes as Redis holds them) kept
 * until their own expiry or the L1 ttl, whichever is first. Invalidations
 * from other instances bump a generation; a value read from Redis before an
 * invalidation arrived is not kept (it may be the old one).
 */
export class L1 {
  readonly #lru: Lru;
  readonly #ttl: number;
  #generation = 0;

  constructor(limits: LruLimits, ttl: number) {
    this.#lru = new Lru(limits);
    this.#ttl = ttl;
  }

  /** Changes whenever an invalidation or a reset arrives. */
  get generation(): number {
    return this.#generation;
  }

  /** The stored bytes, if read from Redis less than the L1 ttl ago. */
  get(key: string, now: number): Uint8Array | undefined {
    return this.#lru.get(key, now, true);
  }

  /** The stored bytes, however old (for grace when Redis is down). */
  getStale(key: string, now: number): Uint8Array | undefined {
    return this.#lru.get(key, now);
  }

  /**
   * Keeps `stored` until `expiresAt` (served as a hit for the L1 ttl only),
   * unless the generation moved since `generation` was read.
   */
  set(
    key: string,
    stored: Uint8Array,
    now: number,
    expiresAt: number,
    generation: number,
  ): void {
    if (generation !== this.#generation) return;
    this.#lru.set(key, stored, expiresAt, now + this.#ttl);
  }

  /** Forgets keys this instance changed. */
  delete(keys: readonly string[], now: number): void {
    for (const key of keys) this.#lru.delete(key, now);
  }

  /** Forgets keys another instance changed. */
  invalidate(keys: readonly string[], now: number): void {
    this.#generation++;
    this.delete(keys, now);
  }

  /** Forgets everything (the invalidation channel was lost for a while). */
  reset(): void {
    this.#generation++;
    this.#lru.clear();
  }
}
