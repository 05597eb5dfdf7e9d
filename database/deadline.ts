// One abort signal for opening a transaction and for its lifetime: the
// caller's signal, a timeout and the database's own shutdown, aborted with
// the error the call rejects with (`canceled`, `timeout` or `temporary`).
// (A statement uses expiry.ts instead: no controller and no timer of its
// own.)
import { DatabaseError } from "./error.ts";

/**
 * A signal that aborts when the caller's signal does, when `timeout` passes,
 * or when the database shuts down; its reason is always the
 * {@linkcode DatabaseError} the call rejects with.
 */
export class Deadline {
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #signals: AbortSignal[] = [];
  readonly #onAbort: (event: Event) => void;

  constructor(
    what: string,
    timeout: number,
    signals: (AbortSignal | undefined)[],
  ) {
    const abort = (reason: unknown) =>
      this.#controller.abort(
        reason instanceof DatabaseError ? reason : canceled(what, reason),
      );
    this.#onAbort = (event) => abort((event.target as AbortSignal).reason);
    for (const signal of signals) {
      if (signal === undefined) continue;
      if (signal.aborted) {
        abort(signal.reason);
        break;
      }
      signal.addEventListener("abort", this.#onAbort, { once: true });
      this.#signals.push(signal);
    }
    if (!this.#controller.signal.aborted && timeout !== Infinity) {
      this.#timer = setTimeout(
        () => this.#controller.abort(timedOut(what, timeout)),
        timeout,
      );
    }
  }

  /** Aborted with the call's error. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The error of an aborted call; undefined while it is not aborted. */
  error(): DatabaseError | undefined {
    const signal = this.#controller.signal;
    return signal.aborted ? signal.reason as DatabaseError : undefined;
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
