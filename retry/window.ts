// A sliding time window of counters, kept as a ring of buckets so memory stays
// fixed however many events arrive. Private to this module.

const BUCKETS = 10;

/** Counts of named events over the last `span` milliseconds. */
export class SlidingWindow<K extends string> {
  readonly #width: number;
  readonly #now: () => number;
  readonly #keys: readonly K[];
  // starts[i] is the bucket's start time; counts[i] its counts per key.
  readonly #starts: number[] = new Array(BUCKETS).fill(-Infinity);
  readonly #counts: Record<K, number>[];

  constructor(span: number, now: () => number, keys: readonly K[]) {
    this.#width = span / BUCKETS;
    this.#now = now;
    this.#keys = keys;
    this.#counts = Array.from({ length: BUCKETS }, () => this.#zero());
  }

  /** Adds one to `key` at the current time. */
  add(key: K): void {
    const now = this.#now();
    const slot = Math.floor(now / this.#width);
    const i = ((slot % BUCKETS) + BUCKETS) % BUCKETS;
    const start = slot * this.#width;
    if (this.#starts[i] !== start) {
      this.#starts[i] = start;
      this.#counts[i] = this.#zero();
    }
    this.#counts[i][key]++;
  }

  /** The sums per key over the buckets still inside the window. */
  totals(): Record<K, number> {
    const oldest = this.#now() - this.#width * BUCKETS;
    const sums = this.#zero();
    for (let i = 0; i < BUCKETS; i++) {
      if (this.#starts[i] <= oldest) continue;
      for (const key of this.#keys) sums[key] += this.#counts[i][key];
    }
    return sums;
  }

  /** Forgets everything. */
  clear(): void {
    this.#starts.fill(-Infinity);
  }

  #zero(): Record<K, number> {
    const zero = {} as Record<K, number>;
    for (const key of this.#keys) zero[key] = 0;
    return zero;
  }
}
