// A counting semaphore: at most `size` holders at once, the rest served in
// the order they asked.

/** Slots for at most `size` concurrent holders. */
export class Slots {
  readonly #size: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#size = size;
  }

  /** Takes a slot, waiting for one when all are taken. */
  acquire(): Promise<void> | void {
    if (this.#active < this.#size) {
      this.#active++;
      return;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Gives a slot back (to the longest waiter, if any). */
  release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#active--;
    else next();
  }
}
