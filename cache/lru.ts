// A map of byte values bounded by entries and by bytes, evicting the least
// recently used, with an expiry time per entry (checked on read). The memory
// backend is one; the L1 tier in front of Redis is another.

interface Slot {
  value: Uint8Array;
  /** Clock time after which the entry is gone; Infinity for never. */
  expiresAt: number;
  /** Clock time until which it may be served without asking its source. */
  trustUntil: number;
  size: number;
}

/** Limits of an {@linkcode Lru}. */
export interface LruLimits {
  /** Most entries kept. */
  maxEntries: number;
  /** Most bytes kept, counting keys (UTF-16 code units × 2) and values. */
  maxBytes: number;
}

/** The least recently used entries go first when a limit is reached. */
export class Lru {
  readonly #slots = new Map<string, Slot>();
  readonly #limits: LruLimits;
  #bytes = 0;

  constructor(limits: LruLimits) {
    this.#limits = limits;
  }

  /** Entries held (expired ones included until they are read or evicted). */
  get size(): number {
    return this.#slots.size;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The value, unless absent or expired at `now` (or, when `trusted`, past
   * its trust time); marks it recently used.
   */
  get(key: string, now: number, trusted = false): Uint8Array | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= now) {
      this.#remove(key, slot);
      return undefined;
    }
    if (trusted && slot.trustUntil <= now) return undefined;
    // Map keeps insertion order: re-inserting makes it the most recent.
    this.#slots.delete(key);
    this.#slots.set(key, slot);
    return slot.value;
  }

  /** Whether a live entry exists, without marking it used. */
  has(key: string, now: number): boolean {
    const slot = this.#slots.get(key);
    return slot !== undefined && slot.expiresAt > now;
  }

  /** Whether an entry can be stored (false when it alone exceeds `maxBytes`). */
  fits(key: string, value: Uint8Array): boolean {
    return key.length * 2 + value.byteLength <= this.#limits.maxBytes;
  }

  /**
   * Stores a value until `expiresAt`, evicting the least recently used
   * entries to make room. False (and nothing stored, any old value removed)
   * when the entry alone exceeds `maxBytes`.
   */
  set(
    key: string,
    value: Uint8Array,
    expiresAt: number,
    trustUntil = Infinity,
  ): boolean {
    const old = this.#slots.get(key);
    if (old !== undefined) this.#remove(key, old);
    const size = key.length * 2 + value.byteLength;
    if (size > this.#limits.maxBytes) return false;
    this.#slots.set(key, { value, expiresAt, trustUntil, size });
    this.#bytes += size;
    for (const [oldest, slot] of this.#slots) {
      if (
        this.#slots.size <= this.#limits.maxEntries &&
        this.#bytes <= this.#limits.maxBytes
      ) break;
      this.#remove(oldest, slot);
    }
    return true;
  }

  /** Removes an entry: true if a live one was there. */
  delete(key: string, now: number): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    this.#remove(key, slot);
    return slot.expiresAt > now;
  }

  /** Removes everything. */
  clear(): void {
    this.#slots.clear();
    this.#bytes = 0;
  }

  #remove(key: string, slot: Slot): void {
    this.#slots.delete(key);
    this.#bytes -= slot.size;
  }
}
