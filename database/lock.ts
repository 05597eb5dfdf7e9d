// A first-come first-served lock whose waiters can give up: PGlite's one
// connection, held by a statement or a transaction.

/** A place in the queue: the release function once the lock is ours. */
export interface Waiting {
  readonly promise: Promise<() => void>;
  /** Leaves the queue, rejecting `promise` with `reason`; no-op once granted. */
  cancel(reason: unknown): void;
}

interface Waiter {
  grant: (release: () => void) => void;
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

  /** Joins the queue (or takes the lock at once when it is free). */
  acquire(): Waiting {
    if (!this.#held) {
      this.#held = true;
      return { promise: Promise.resolve(this.#releaser()), cancel: () => {} };
    }
    const { promise, resolve, reject } = Promise.withResolvers<() => void>();
    let granted = false;
    const waiter: Waiter = {
      grant: (release) => {
        granted = true;
        resolve(release);
      },
    };
    this.#queue.push(waiter);
    return {
      promise,
      cancel: (reason) => {
        if (granted) return;
        const i = this.#queue.indexOf(waiter);
        if (i !== -1) this.#queue.splice(i, 1);
        reject(reason);
      },
    };
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next === undefined) this.#held = false;
      else next.grant(this.#releaser());
    };
  }
}
