import type { Logger } from "@cqi/logging";
import type { MetricsRegistry } from "@cqi/metrics";

/**
 * Where {@linkcode retryHooks} and {@linkcode breakerHooks} report: a logger
 * and a metrics registry, either may be left out.
 *
 * @example Usage
 * ```ts
 * import { createLogger } from "@cqi/logging";
 * import type { ObserveOptions } from "@cqi/service";
 *
 * const options: ObserveOptions = { logger: createLogger({ service: "cqpm" }) };
 * ```
 */
export interface ObserveOptions {
  /** Gets a `warn` line per retry and per breaker state change. */
  logger?: Logger;
  /** Gets the retry counter and the breaker gauge and counter. */
  registry?: MetricsRegistry;
}

/**
 * The `onRetry` hook for `retry()` from `@cqi/retry`, reporting each retry
 * of `operation`: a `warn` line (`retrying`, with `operation`, `attempt`,
 * `delay_ms` and the error) and `{ns}_retry_attempts_total{operation}`.
 * `bootstrap()` gives one bound to its logger and registry.
 *
 * @example Usage
 * ```ts
 * import { retry } from "@cqi/retry";
 * import { temporary } from "@cqi/errors";
 * import { createLogger, memorySink } from "@cqi/logging";
 * import { retryHooks } from "@cqi/service";
 *
 * const sink = memorySink();
 * const logger = createLogger({ service: "cqpm", output: sink });
 * let calls = 0;
 * await retry(() => {
 *   if (++calls < 2) throw temporary("exchange busy");
 *   return "filled";
 * }, { initialDelay: 1, ...retryHooks("place_order", { logger }) });
 * console.log(sink.records[0].operation); // "place_order"
 * ```
 *
 * @param operation A low-cardinality name for what is retried.
 * @param options The logger and registry to report to.
 * @returns `{ onRetry }`, to spread into the retry options.
 */
export function retryHooks(
  operation: string,
  options: ObserveOptions = {},
): {
  onRetry: (event: { attempt: number; error: unknown; delay: number }) => void;
} {
  checkName(operation, "retryHooks: operation");
  const attempts = options.registry?.counter({
    name: "retry_attempts_total",
    help: "Retries made after a failed attempt, by operation.",
    labelNames: ["operation"],
  });
  const { logger } = options;
  return {
    onRetry: ({ attempt, error, delay }) => {
      attempts?.inc({ operation });
      logger?.warn("retrying", {
        operation,
        attempt,
        delay_ms: Math.round(delay),
        error,
      });
    },
  };
}

// The numbers `circuitBreaker().stateValue` of @cqi/retry gives.
const STATE_VALUES = { closed: 0, half_open: 1, open: 2 } as const;

/**
 * The `onStateChange` hook for `circuitBreaker()` from `@cqi/retry`,
 * reporting the breaker named `breaker`: `{ns}_circuit_breaker_state`
 * (0 closed, 1 half open, 2 open), `{ns}_circuit_breaker_transitions_total`
 * by target state, and a log line per change (`warn` when it opens, `info`
 * otherwise). `bootstrap()` gives one bound to its logger and registry.
 *
 * @example Usage
 * ```ts
 * import { circuitBreaker } from "@cqi/retry";
 * import { createRegistry } from "@cqi/metrics";
 * import { breakerHooks } from "@cqi/service";
 *
 * const registry = createRegistry({ namespace: "cqpm" });
 * const breaker = circuitBreaker({
 *   name: "exchange",
 *   failureThreshold: 1,
 *   ...breakerHooks("exchange", { registry }),
 * });
 * await breaker.execute(() => Promise.reject(new Error("down"))).catch(() => {});
 * console.log((await registry.metrics()).includes(
 *   'cqpm_circuit_breaker_state{breaker="exchange"} 2',
 * )); // true
 * ```
 *
 * @param breaker A low-cardinality name for the breaker.
 * @param options The logger and registry to report to.
 * @returns `{ onStateChange }`, to spread into the breaker options.
 */
export function breakerHooks(
  breaker: string,
  options: ObserveOptions = {},
): {
  onStateChange: (
    change: {
      from: "closed" | "open" | "half_open";
      to: "closed" | "open" | "half_open";
    },
  ) => void;
} {
  checkName(breaker, "breakerHooks: breaker");
  const state = options.registry?.gauge({
    name: "circuit_breaker_state",
    help: "Circuit breaker state: 0 closed, 1 half open, 2 open.",
    labelNames: ["breaker"],
  });
  const transitions = options.registry?.counter({
    name: "circuit_breaker_transitions_total",
    help: "Circuit breaker state changes, by the state entered.",
    labelNames: ["breaker", "to"],
  });
  state?.set({ breaker }, STATE_VALUES.closed);
  const { logger } = options;
  return {
    onStateChange: ({ from, to }) => {
      state?.set({ breaker }, STATE_VALUES[to]);
      transitions?.inc({ breaker, to });
      const fields = { breaker, from, to };
      if (to === "open") logger?.warn("circuit breaker opened", fields);
      else logger?.info("circuit breaker state changed", fields);
    },
  };
}

function checkName(name: unknown, what: string): void {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`${what} must be a non-empty string`);
  }
}
