// What both drivers keep of a connection besides its client, and the timing
// rules they share: reconnect backoff and the subscriber's probe.
import { setInterval, setTimeout } from "node:timers";

/**
 * One connection's state: its last connection error, to explain "not
 * connected", and its first connection attempt. A call made before that
 * attempt ended waits for it (at most `connectionTimeout`); after it, a
 * call runs at once, and on a disconnected client fails at once.
 */
export class ConnectionState {
  /** The last connection error; undefined while connected or connecting. */
  lastError: unknown = undefined;
  #firstAttempt: Promise<void> | undefined;
  #end = (): void => {};

  constructor(connectionTimeout: number) {
    this.#firstAttempt = new Promise<void>((resolve) => {
      // bounded: a silent server gives neither 'ready' nor 'error'
      const timer = setTimeout(() => this.#end(), connectionTimeout);
      this.#end = () => {
        clearTimeout(timer);
        this.#firstAttempt = undefined;
        resolve();
      };
    });
  }

  /** The client is connected and ready. */
  ready(): void {
    this.lastError = undefined;
    this.#end();
  }

  /** The client could not connect, or lost its connection. */
  failed(error: unknown): void {
    this.lastError = error;
    this.#end();
  }

  /** The driver is closing: calls waiting for the first attempt go on. */
  close(): void {
    this.#end();
  }

  /** Runs `call` once the first attempt ended; a synchronous throw rejects. */
  run<T>(call: () => Promise<T>): Promise<T> {
    if (this.#firstAttempt) return this.#firstAttempt.then(call);
    try {
      return call();
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/**
 * Reconnects forever: 50 ms doubling, at most 2 s, with a little jitter.
 *
 * @param retries Reconnections tried so far (0 before the first).
 */
export function backoff(retries: number): number {
  return Math.min(2_000, 50 * 2 ** Math.min(retries, 10)) *
    (0.8 + Math.random() * 0.2);
}

/**
 * Calls `ping` every two command timeouts (at least every second), for a
 * subscriber's connection: without traffic, a dead subscription would
 * never show. The timer does not keep the process alive.
 */
export function probe(
  commandTimeout: number,
  ping: () => void,
): ReturnType<typeof setInterval> {
  const timer = setInterval(ping, Math.max(1_000, 2 * commandTimeout));
  timer.unref();
  return timer;
}
