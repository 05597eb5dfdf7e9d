// One abort signal for opening a transaction and for its lifetime: the
// caller's signal, a timeout and the database's own shutdown, with the
// reason kept apart so that the call rejects `canceled`, `timeout` or
// `temporary` as it should. (A statement uses expiry.ts instead: no
// controller and no timer of its own.)
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
    if (reason === TIMED_OUT) return timedOut(what, this.timeout);
    if (reason === CLOSED) return closed();
    if (reason instanceof DatabaseError) return reason;
    return canceled(what, reason);
  }

  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const signal of this.#signals) {
      signal.removeEventListener("abort", this.#onAbort);
    }
  }
}

/** A call past its timeout. */
export function timedOut(what: string, ms: number): DatabaseError {
  return new DatabaseError("timeout", `${what} timed out after ${ms} ms`);
}

/** A call whose signal aborted; the signal's reason is the cause. */
export function canceled(what: string, reason: unknown): DatabaseError {
  return new DatabaseError("canceled", `${what} canceled`, {}, reason);
}

/** A call the database's shutdown stopped. */
export function closed(): DatabaseError {
  return new DatabaseError("temporary", "database closed");
}
