// A fake Clock for tests. Not published.
import type { Clock } from "../mod.ts";

interface Timer {
  at: number;
  resolve: () => void;
}

/**
 * With `auto` (the default) every sleep advances time at once and resolves,
 * so a retry loop runs through its whole schedule instantly; `sleeps` records
 * the delays asked for. Without it, sleeps wait until `advance` passes their
 * deadline (or their signal aborts).
 */
export class FakeClock implements Clock {
  time = 0;
  readonly sleeps: number[] = [];
  readonly #auto: boolean;
  #timers: Timer[] = [];

  constructor(options: { auto?: boolean; start?: number } = {}) {
    this.#auto = options.auto ?? true;
    this.time = options.start ?? 0;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#auto) {
      this.time += ms;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = {
        at: this.time + ms,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#timers.push(timer);
    });
  }

  /** Timers still waiting. */
  get pending(): number {
    return this.#timers.length;
  }

  /** The earliest deadline of a waiting timer, or `undefined`. */
  get nextDeadline(): number | undefined {
    return this.#timers.length === 0
      ? undefined
      : Math.min(...this.#timers.map((t) => t.at));
  }

  /** Moves time forward by `ms`, firing the timers that fall due, in order. */
  advance(ms: number): void {
    this.time += ms;
    const due = this.#timers.filter((t) => t.at <= this.time)
      .sort((a, b) => a.at - b.at);
    this.#timers = this.#timers.filter((t) => t.at > this.time);
    for (const timer of due) timer.resolve();
  }
}

/** A seeded PRNG (mulberry32) in [0, 1), for reproducible jitter. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A promise with its resolve and reject exposed. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
