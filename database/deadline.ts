// One abort signal for a call: the caller's signal, a timeout and the
// database's own shutdown, with the reason kept apart so that the call
// rejects `canceled`, `timeout` or `temporary` as it should.
import { DatabaseError } from "./error.ts";

/** Why a call's signal aborted when it was not the caller's signal. */
export const TIMED_OUT: unique symbol = Symbol("timed out");
export const CLOSED: unique symbol = Symbol("database closed");

/** A call's signal and the timer and listeners behind it. */
export class Deadline {
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #signals: AbortSignal[] = [];
  readonly #onAbort: (event: Event) => void;
  readonly timeout: number;

  constructor(timeout: number, signals: (AbortSignal | undefined)[]) {
    this.timeout = timeout;
    this.#onAbort = (event) =>
      this.#controller.abort((event.target as AbortSignal).reason);
    for (const signal of signals) {
      if (signal === undefined) continue;
      if (signal.aborted) {
        this.#controller.abort(signal.reason);
        break;
      }
      signal.addEventListener("abort", this.#onAbort, { once: true });
      this.#signals.push(signal);
    }
    if (!this.#controller.signal.aborted && timeout !== Infinity) {
      this.#timer = setTimeout(
        () => this.#controller.abort(TIMED_OUT),
        timeout,
      );
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The error of an aborted call, by why it aborted; undefined if it did not. */
  error(what: string): DatabaseError | undefined {
    const signal = this.#controller.signal;
    if (!signal.aborted) return;
    const reason = signal.reason;
    if (reason === TIMED_OUT) {
      return new DatabaseError(
        "timeout",
        `${what} timed out after ${this.timeout} ms`,
      );
    }
    if (reason === CLOSED) {
      return new DatabaseError("temporary", "database closed");
    }
    if (reason instanceof DatabaseError) return reason;
    return new DatabaseError("canceled", `${what} canceled`, {}, reason);
  }

  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const signal of this.#signals) {
      signal.removeEventListener("abort", this.#onAbort);
    }
  }
}
