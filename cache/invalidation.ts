import { systemClock } from "@cqi/retry";
import type { RedisDriver } from "./backends/redis_driver.ts";
import type { L1 } from "./l1.ts";

// Largest invalidation message read; a larger one resets the whole L1.
const MAX_MESSAGE = 1024 * 1024;
// Wait between attempts to subscribe while Redis cannot be reached.
const RETRY = 1_000;

/**
 * Keeps an L1 coherent with the other instances: subscribes to the
 * invalidation channel (retrying until it can), drops the keys others
 * changed, clears everything when the subscription comes back after a loss,
 * and publishes the keys this instance changes. Until the first
 * subscription holds, `live` is false and nothing may be kept in L1.
 */
export class Invalidation {
  readonly #driver: RedisDriver;
  readonly #channel: string;
  readonly #l1: L1;
  readonly #now: () => number;
  readonly #instance = crypto.randomUUID();
  #live = false;

  constructor(driver: RedisDriver, channel: string, l1: L1, now: () => number) {
    this.#driver = driver;
    this.#channel = channel;
    this.#l1 = l1;
    this.#now = now;
  }

  /** Whether the subscription holds (L1 may keep values). */
  get live(): boolean {
    return this.#live;
  }

  /** Subscribes, retrying every second until `signal` aborts. */
  async start(
    signal: AbortSignal,
    onError: (error: unknown) => void,
  ): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.#driver.subscribe(
          this.#channel,
          (message) => this.#receive(message),
          () => this.#l1.reset(),
        );
        this.#l1.reset();
        this.#live = true;
        return;
      } catch (error) {
        onError(error);
        await systemClock.sleep(RETRY, signal).catch(() => {});
      }
    }
  }

  /** The message telling the others to drop `keys`. */
  message(keys: readonly string[]): string {
    return JSON.stringify([this.#instance, ...keys]);
  }

  #receive(message: string): void {
    let keys: unknown;
    try {
      keys = message.length <= MAX_MESSAGE ? JSON.parse(message) : undefined;
    } catch {
      keys = undefined;
    }
    if (!Array.isArray(keys) || !keys.every((key) => typeof key === "string")) {
      return this.#l1.reset();
    }
    if (keys[0] === this.#instance) return;
    this.#l1.invalidate(keys.slice(1), this.#now());
  }
}
