// A first-come first-served lock whose waiters give up when their signal
// aborts: PGlite's one connection, held by a statement or a transaction.

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (reason: unknown) => void;
}

/** The lock. */
export class Lock {
  #held = false;
  readonly #queue: Waiter[] = [];

  /** Calls waiting for the lock. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Whether someone holds the lock. */
  get held(): boolean {
    return this.#held;
  }

  /** Resolves with the release function once the lock is ours. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (release) => {
          signal.removeEventListener("abort", onAbort);
          resolve(release);
        },
        reject,
      };
      const onAbort = () => {
        const i = this.#queue.indexOf(waiter);
        if (i !== -1) this.#queue.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next === undefined) this.#held = false;
      else next.resolve(this.#releaser());
    };
  }
}
