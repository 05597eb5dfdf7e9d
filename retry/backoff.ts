/**
 * A backoff strategy: the milliseconds to wait before retry number `retries`
 * (`0` before the first retry, `1` before the second, ...). A strategy is a
 * plain function, so one value serves {@linkcode retry}, a reconnect loop and
 * a restart policy alike; write your own for anything the built-in
 * {@linkcode exponential}, {@linkcode linear} and {@linkcode constant} do not
 * cover. `random` returns a number in `[0, 1)` and defaults to
 * `Math.random`; pass your own for reproducible delays. The built-in
 * strategies return whole milliseconds (rounded down after jitter).
 *
 * @example A reconnect loop and a custom strategy
 * ```ts
 * import { type Backoff, exponential } from "@cqi/retry";
 *
 * const backoff: Backoff = exponential({ initialDelay: 50, jitter: 0 });
 * console.log([0, 1, 2].map((n) => backoff(n))); // [50, 100, 200]
 *
 * const fibonacci: Backoff = (retries) => {
 *   let [a, b] = [100, 100];
 *   for (let i = 0; i < retries; i++) [a, b] = [b, a + b];
 *   return Math.min(a, 10_000);
 * };
 * console.log(fibonacci(4)); // 500
 * ```
 */
export type Backoff = (retries: number, random?: () => number) => number;

/**
 * Options for {@linkcode exponential}: the delay before retry `n` is
 * `initialDelay * multiplier ** n`, capped at `maxDelay`, then jittered.
 *
 * @example Usage
 * ```ts
 * import { exponential, type ExponentialOptions } from "@cqi/retry";
 *
 * const options: ExponentialOptions = { initialDelay: 200, maxDelay: 30_000 };
 * const backoff = exponential(options);
 * ```
 */
export interface ExponentialOptions {
  /** Milliseconds before the first retry. Default 100. */
  initialDelay?: number;
  /** Cap on the delay before jitter, in milliseconds. Default 5,000. */
  maxDelay?: number;
  /** Growth factor per retry, at least 1. Default 2. */
  multiplier?: number;
  /**
   * A fraction in `[0, 1]`: each delay is spread uniformly over
   * `delay * (1 ± jitter)`. `"full"` spreads it over `[0, delay]` instead
   * ("full jitter"). Default 0.25.
   */
  jitter?: number | "full";
}

/**
 * Options for {@linkcode linear}: the delay before retry `n` is
 * `initialDelay + increment * n`, capped at `maxDelay`, then jittered.
 *
 * @example Usage
 * ```ts
 * import { linear, type LinearOptions } from "@cqi/retry";
 *
 * const options: LinearOptions = { initialDelay: 1_000, increment: 500 };
 * const backoff = linear(options);
 * ```
 */
export interface LinearOptions {
  /** Milliseconds before the first retry. Default 100. */
  initialDelay?: number;
  /** Milliseconds added per retry. Default: `initialDelay`. */
  increment?: number;
  /** Cap on the delay before jitter, in milliseconds. Default 5,000. */
  maxDelay?: number;
  /** As for {@linkcode ExponentialOptions.jitter}. Default 0.25. */
  jitter?: number | "full";
}

/**
 * Exponential backoff with jitter. The defaults follow the Go library:
 * 100 ms doubling up to 5 s, ±25%.
 *
 * @example Usage
 * ```ts
 * import { exponential } from "@cqi/retry";
 *
 * const backoff = exponential({ jitter: 0 });
 * console.log([0, 1, 2, 6, 20].map((n) => backoff(n)));
 * // [100, 200, 400, 5000, 5000]
 * ```
 *
 * @param options The delays, growth and jitter.
 * @returns The strategy.
 * @throws {RangeError} When an option is out of range.
 */
export function exponential(options: ExponentialOptions = {}): Backoff {
  const initialDelay = delayOption("initialDelay", options.initialDelay, 100);
  const maxDelay = delayOption("maxDelay", options.maxDelay, 5_000);
  const multiplier = options.multiplier ?? 2;
  if (!(multiplier >= 1 && multiplier < Infinity)) {
    throw new RangeError(
      `multiplier must be a finite number >= 1, got ${multiplier}`,
    );
  }
  checkCap(initialDelay, maxDelay);
  const spread = jitterOption(options.jitter);
  return (retries, random = Math.random) => {
    const raw = initialDelay * multiplier ** Math.max(0, retries);
    // 0 * Infinity is NaN: an initial delay of 0 stays 0.
    const base = initialDelay === 0 ? 0 : Math.min(raw, maxDelay);
    return spread(base, random);
  };
}

/**
 * Linear backoff with jitter: a fixed step per retry, up to a cap.
 *
 * @example Usage
 * ```ts
 * import { linear } from "@cqi/retry";
 *
 * const backoff = linear({ initialDelay: 100, maxDelay: 350, jitter: 0 });
 * console.log([0, 1, 2, 3].map((n) => backoff(n))); // [100, 200, 300, 350]
 * ```
 *
 * @param options The delays, step and jitter.
 * @returns The strategy.
 * @throws {RangeError} When an option is out of range.
 */
export function linear(options: LinearOptions = {}): Backoff {
  const initialDelay = delayOption("initialDelay", options.initialDelay, 100);
  const increment = delayOption("increment", options.increment, initialDelay);
  const maxDelay = delayOption("maxDelay", options.maxDelay, 5_000);
  checkCap(initialDelay, maxDelay);
  const spread = jitterOption(options.jitter);
  return (retries, random = Math.random) =>
    spread(
      Math.min(initialDelay + increment * Math.max(0, retries), maxDelay),
      random,
    );
}

/**
 * The same delay before every retry, with jitter (±25% unless told
 * otherwise; pass `{ jitter: 0 }` for an exact delay).
 *
 * @example Usage
 * ```ts
 * import { constant } from "@cqi/retry";
 *
 * const backoff = constant(1_000, { jitter: 0 });
 * console.log(backoff(0), backoff(9)); // 1000 1000
 * ```
 *
 * @param delay Milliseconds before each retry.
 * @param options The jitter.
 * @returns The strategy.
 * @throws {RangeError} When `delay` or `jitter` is out of range.
 */
export function constant(
  delay: number,
  options: { jitter?: number | "full" } = {},
): Backoff {
  const base = delayOption("delay", delay, 0);
  const spread = jitterOption(options.jitter);
  return (_retries, random = Math.random) => spread(base, random);
}

function delayOption(
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!(value >= 0 && value < Infinity)) {
    throw new RangeError(
      `${name} must be a finite number of milliseconds >= 0, got ${value}`,
    );
  }
  return value;
}

function checkCap(initialDelay: number, maxDelay: number): void {
  if (maxDelay < initialDelay) {
    throw new RangeError(
      `maxDelay (${maxDelay}) must be >= initialDelay (${initialDelay})`,
    );
  }
}

function jitterOption(
  jitter: number | "full" = 0.25,
): (delay: number, random: () => number) => number {
  if (jitter === "full") {
    return (delay, random) => Math.floor(delay * random());
  }
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(
      `jitter must be a fraction in [0, 1] or "full", got ${jitter}`,
    );
  }
  return (delay, random) =>
    Math.floor(
      jitter === 0 ? delay : delay * (1 + jitter * (2 * random() - 1)),
    );
}
