import { type ErrorKind, kindOf, temporary } from "@cqi/errors";
import { type Clock, systemClock } from "./clock.ts";
import { SlidingWindow } from "./window.ts";

/**
 * The state of a {@linkcode CircuitBreaker}: `closed` lets calls through,
 * `open` fails them fast, `half_open` lets a few probes through to test
 * whether the dependency has recovered.
 *
 * @example Usage
 * ```ts
 * import type { CircuitState } from "@cqi/retry";
 *
 * const state: CircuitState = "half_open";
 * ```
 */
export type CircuitState = "closed" | "open" | "half_open";

/**
 * Options for {@linkcode createCircuitBreaker}. Pick one trip condition:
 * `failureThreshold` consecutive failures (the default, 5), or a
 * `failureRate` over at least `minimumRequests` calls in the last `window`
 * milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { CircuitBreakerOptions } from "@cqi/retry";
 *
 * const options: CircuitBreakerOptions = {
 *   name: "payments",
 *   failureRate: 0.5,
 *   minimumRequests: 20,
 *   openFor: 10_000,
 * };
 * ```
 */
export interface CircuitBreakerOptions {
  /** Names the breaker in the errors it throws. Default: none. */
  name?: string;
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /**
   * Instead of `failureThreshold`: the fraction of failed calls in `(0, 1]`
   * that opens the circuit, judged over the last `window` milliseconds once
   * at least `minimumRequests` calls were made in it.
   */
  failureRate?: number;
  /** With `failureRate`: calls needed before the rate counts. Default 10. */
  minimumRequests?: number;
  /** With `failureRate`: milliseconds of history judged. Default 10,000. */
  window?: number;
  /** Milliseconds the circuit stays open before probing. Default 30,000. */
  openFor?: number;
  /**
   * Probes let through while half-open; that many successes close the
   * circuit, one failure opens it again. Default 1.
   */
  halfOpenMaxCalls?: number;
  /**
   * Which errors count against the dependency. Default: all except the
   * caller's own faults (`not_found`, `invalid_input`, `unauthorized`,
   * `forbidden`, `conflict`, `too_large`), which count as successes: the
   * dependency answered. Whatever this says, an `AbortError` and a
   * `canceled` error (the caller went away) count as neither.
   */
  isFailure?: (error: unknown) => boolean;
  /**
   * Called on every state change, for logs and a state gauge. It runs
   * synchronously once the state has changed; an error it throws reaches the
   * caller of `execute` (or of `state`).
   */
  onStateChange?: (change: { from: CircuitState; to: CircuitState }) => void;
  /** The time source; tests pass a fake one. Default: the system clock. */
  clock?: Clock;
}

/**
 * A circuit breaker made by {@linkcode createCircuitBreaker}.
 *
 * @example Usage
 * ```ts
 * import { createCircuitBreaker } from "@cqi/retry";
 *
 * const breaker = createCircuitBreaker({ failureThreshold: 1 });
 * await breaker.execute(() => Promise.reject(new Error("down"))).catch(() => {});
 * console.log(breaker.state, breaker.stateValue); // "open" 2
 * ```
 */
export interface CircuitBreaker {
  /**
   * Runs `fn` if the circuit allows it and records the outcome. While open,
   * or half-open with every probe slot taken, rejects at once with a
   * `temporary` `CqiError` (its cause is the last failure); while open, its
   * `retryAfter` is the milliseconds until probing starts.
   *
   * @param fn The call to protect.
   * @returns What `fn` returned.
   */
  execute<T>(fn: () => T | Promise<T>): Promise<T>;
  /**
   * The current state; `open` turns `half_open` once `openFor` has passed (a
   * clock stepping back restarts the open period at the new time).
   */
  readonly state: CircuitState;
  /** The state as a number for a gauge: 0 closed, 1 half-open, 2 open. */
  readonly stateValue: 0 | 1 | 2;
}

const STATE_VALUES = { closed: 0, half_open: 1, open: 2 } as const;

const CALLER_FAULTS: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  "not_found",
  "invalid_input",
  "unauthorized",
  "forbidden",
  "conflict",
  "too_large",
]);

type Outcome = "success" | "failure" | "neutral";

/**
 * Creates a {@linkcode CircuitBreaker}. Closed, it counts failures; after
 * `failureThreshold` in a row (or at `failureRate`) it opens and fails calls
 * fast for `openFor` milliseconds; then, half-open, it lets
 * `halfOpenMaxCalls` probes through: as many successes close it, a failure
 * opens it again. Outcomes of calls started in an earlier state are ignored.
 * Inside {@linkcode retry}, the `retryAfter` of the open-circuit error makes
 * the retry wait until probing starts instead of hammering the circuit.
 *
 * @example With retry
 * ```ts
 * import { temporary } from "@cqi/errors";
 * import { createCircuitBreaker, retry } from "@cqi/retry";
 *
 * const breaker = createCircuitBreaker({
 *   name: "quotes",
 *   failureThreshold: 3,
 *   onStateChange: ({ from, to }) => console.log(`quotes: ${from} -> ${to}`),
 * });
 * const quote = (symbol: string) =>
 *   retry(() =>
 *     breaker.execute(() => {
 *       throw temporary(`no quote for ${symbol}`);
 *     }), { maxElapsed: 1_000, initialDelay: 1 });
 * await quote("BTC").catch((err) => console.log(err.message));
 * // quotes: closed -> open
 * // circuit breaker "quotes" is open
 * ```
 *
 * @param options The trip condition, timings and hooks.
 * @returns The breaker, closed.
 * @throws {TypeError} When `failureThreshold` and `failureRate` are both
 *   given, or `minimumRequests` or `window` without `failureRate`.
 * @throws {RangeError} When a number option is out of range.
 */
export function createCircuitBreaker(
  options: CircuitBreakerOptions = {},
): CircuitBreaker {
  const config = validate(options);
  const { halfOpenMaxCalls, openFor, onStateChange } = config;
  const clock = options.clock ?? systemClock;
  const label = options.name === undefined
    ? "circuit breaker"
    : `circuit breaker ${JSON.stringify(options.name)}`;
  const rates = config.failureRate === undefined
    ? undefined
    : new SlidingWindow(config.window, () => clock.now(), [
      "successes",
      "failures",
    ]);

  let state: CircuitState = "closed";
  let generation = 0; // bumped on every transition
  let consecutiveFailures = 0;
  let openUntil = 0;
  let probesInFlight = 0;
  let probeSuccesses = 0;
  let lastFailure: unknown;

  const transition = (to: CircuitState) => {
    const from = state;
    state = to;
    generation++;
    if (to === "open") openUntil = clock.now() + openFor;
    probesInFlight = probeSuccesses = consecutiveFailures = 0;
    rates?.clear();
    onStateChange?.({ from, to });
  };
  const current = () => {
    if (state === "open") {
      const now = clock.now();
      // A clock that went backwards: the open period starts over now, so a
      // step back costs at most one openFor.
      if (now < openUntil - openFor) openUntil = now + openFor;
      if (now >= openUntil) transition("half_open");
    }
    return state;
  };
  const settleClosed = (outcome: Outcome) => {
    if (outcome === "neutral") return;
    if (rates === undefined) {
      consecutiveFailures = outcome === "failure" ? consecutiveFailures + 1 : 0;
      if (consecutiveFailures >= config.failureThreshold) transition("open");
      return;
    }
    rates.add(outcome === "failure" ? "failures" : "successes");
    const { successes, failures } = rates.totals();
    const calls = successes + failures;
    if (
      outcome === "failure" && calls >= config.minimumRequests &&
      failures / calls >= (config.failureRate ?? 1)
    ) transition("open");
  };
  const settle = (started: number, outcome: Outcome, error?: unknown) => {
    if (started !== generation) return; // began in an earlier state
    if (outcome === "failure") lastFailure = error;
    if (state === "closed") return settleClosed(outcome);
    probesInFlight--;
    if (outcome === "failure") transition("open");
    else if (outcome === "success" && ++probeSuccesses >= halfOpenMaxCalls) {
      transition("closed");
    }
  };

  return {
    async execute<T>(fn: () => T | Promise<T>): Promise<T> {
      if (typeof fn !== "function") {
        throw new TypeError(
          `${label}: fn must be a function, got ${typeof fn}`,
        );
      }
      const now = current();
      if (now === "open") {
        throw temporary(`${label} is open`, {
          retryAfter: openUntil - clock.now(),
          cause: lastFailure,
        });
      }
      if (now === "half_open") {
        if (probesInFlight + probeSuccesses >= halfOpenMaxCalls) {
          throw temporary(`${label} is half-open, its probes are in flight`, {
            cause: lastFailure,
          });
        }
        probesInFlight++;
      }
      const started = generation;
      let result: T;
      try {
        result = await fn();
      } catch (error) {
        settle(started, outcomeOf(error, config.isFailure), error);
        throw error;
      }
      settle(started, "success");
      return result;
    },
    get state() {
      return current();
    },
    get stateValue() {
      return STATE_VALUES[current()];
    },
  };
}

function outcomeOf(
  error: unknown,
  isFailure: (error: unknown) => boolean,
): Outcome {
  // The caller gave up: nothing was learnt about the dependency.
  if (
    (error as { name?: unknown } | null)?.name === "AbortError" ||
    kindOf(error) === "canceled"
  ) return "neutral";
  return isFailure(error) ? "failure" : "success";
}

function defaultIsFailure(error: unknown): boolean {
  const kind = kindOf(error);
  return kind === undefined || !CALLER_FAULTS.has(kind);
}

function validate(options: CircuitBreakerOptions) {
  const rate = options.failureRate;
  if (rate !== undefined && options.failureThreshold !== undefined) {
    throw new TypeError(
      "createCircuitBreaker: pass failureThreshold or failureRate, not both",
    );
  }
  if (rate === undefined) {
    const stray = (["minimumRequests", "window"] as const).find((key) =>
      options[key] !== undefined
    );
    if (stray !== undefined) {
      throw new TypeError(
        `createCircuitBreaker: ${stray} only applies with failureRate`,
      );
    }
  } else if (!(rate > 0 && rate <= 1)) {
    throw new RangeError(
      `createCircuitBreaker: failureRate must be a fraction in (0, 1], got ${rate}`,
    );
  }
  return {
    failureThreshold: count("failureThreshold", options.failureThreshold, 5),
    failureRate: rate,
    minimumRequests: count("minimumRequests", options.minimumRequests, 10),
    window: millis("window", options.window, 10_000, false),
    openFor: millis("openFor", options.openFor, 30_000, true),
    halfOpenMaxCalls: count("halfOpenMaxCalls", options.halfOpenMaxCalls, 1),
    isFailure: options.isFailure ?? defaultIsFailure,
    onStateChange: options.onStateChange,
  };
}

function count(name: string, value: number | undefined, fallback: number) {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `createCircuitBreaker: ${name} must be an integer >= 1, got ${value}`,
    );
  }
  return value;
}

function millis(
  name: string,
  value: number | undefined,
  fallback: number,
  zeroOk: boolean,
) {
  if (value === undefined) return fallback;
  if (!(value < Infinity && (zeroOk ? value >= 0 : value > 0))) {
    throw new RangeError(
      `createCircuitBreaker: ${name} must be a finite number of milliseconds ${
        zeroOk ? ">=" : ">"
      } 0, got ${value}`,
    );
  }
  return value;
}
