// A manual clock for runner tests. Not published.
import type { RunnerClock } from "../mod.ts";

interface Timer {
  at: number;
  resolve: () => void;
}

/** Sleeps wait until `next()` moves time to their deadline (or their signal aborts). */
export class FakeClock implements RunnerClock {
  time = 0;
  readonly sleeps: number[] = [];
  #timers: Timer[] = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.reject(signal.reason);
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

  /** Moves time to the earliest pending deadline, fires what is due, lets the callbacks run. */
  async next(): Promise<void> {
    await settle();
    if (this.#timers.length === 0) return;
    this.time = Math.min(...this.#timers.map((t) => t.at));
    const due = this.#timers.filter((t) => t.at <= this.time);
    this.#timers = this.#timers.filter((t) => t.at > this.time);
    for (const timer of due) timer.resolve();
    await settle();
  }

  /** Calls `next()` until `done()` holds; fails after `limit` steps. */
  async until(done: () => boolean, limit = 200): Promise<void> {
    for (let i = 0; i < limit && !done(); i++) await this.next();
    if (!done()) throw new Error("condition not reached");
  }
}

/** Lets pending promise callbacks run (one macrotask turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
