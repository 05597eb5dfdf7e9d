import { ListenerError } from "@cqi/http";
import type { Logger } from "@cqi/logging";
import type { MetricsRegistry } from "@cqi/metrics";

/**
 * Where {@linkcode retryHooks}, {@linkcode breakerHooks} and
 * {@linkcode serverHooks} report: a logger and a metrics registry, either
 * may be left out.
 *
 * @example Usage
 * ```ts
 * import { createLogger } from "@cqi/logging";
 * import type { ObserveOptions } from "@cqi/service";
 *
 * const options: ObserveOptions = { logger: createLogger({ service: { name: "cqpm" } }) };
 * ```
 */
export interface ObserveOptions {
  /** Gets a line per retry, breaker state change and server error. */
  logger?: Logger;
  /** Gets the retry counter, the breaker gauge and counter, the server error counter. */
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
 * const logger = createLogger({ service: { name: "cqpm" }, output: sink });
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

// The numbers `createCircuitBreaker().stateValue` of @cqi/retry gives.
const STATE_VALUES = { closed: 0, half_open: 1, open: 2 } as const;

/**
 * The `onStateChange` hook for `createCircuitBreaker()` of `@cqi/retry`:
 * state changes become metrics and log lines. For the breaker named
 * `breaker`: `{ns}_circuit_breaker_state`
 * (0 closed, 1 half open, 2 open), `{ns}_circuit_breaker_transitions_total`
 * by target state, and a log line per change (`warn` when it opens, `info`
 * otherwise). `bootstrap()` gives one bound to its logger and registry.
 *
 * @example Usage
 * ```ts
 * import { createCircuitBreaker } from "@cqi/retry";
 * import { createRegistry } from "@cqi/metrics";
 * import { breakerHooks } from "@cqi/service";
 *
 * const registry = createRegistry({ namespace: "cqpm" });
 * const breaker = createCircuitBreaker({
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

/**
 * Server hooks for `httpService()` (or `serve` of `@cqi/http`): errors are
 * logged and counted, refused requests counted. For the server named
 * `server`, `onError` writes an `error` line `server error` with
 * `server` and the error, and `{ns}_http_server_errors_total{server, kind}`,
 * where `kind` is `listener` for a `ListenerError` of `@cqi/http` (an accept
 * loop failed, say out of file descriptors, and the server listens again)
 * and `handler` for an error that escaped the handler (the client got a
 * 500); and the `onRefused` hook, counting the requests the server answered
 * itself in `{ns}_http_requests_refused_total{server, reason}` (`invalid_host`
 * 400, `shutting_down` 503) without a log line, since a client chooses how
 * many it sends. All series start at 0. `bootstrap()` gives one bound to its
 * logger and registry.
 *
 * @example Usage
 * ```ts
 * import { createLogger, memorySink } from "@cqi/logging";
 * import { createRegistry } from "@cqi/metrics";
 * import { httpService, serverHooks } from "@cqi/service";
 *
 * const sink = memorySink();
 * const logger = createLogger({ service: { name: "cqpm" }, output: sink });
 * const registry = createRegistry({ namespace: "cqpm" });
 * const http = httpService(() => {
 *   throw new Error("bug");
 * }, {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   ...serverHooks("http", { logger, registry }),
 * });
 * await http.start(AbortSignal.timeout(5_000));
 * const res = await fetch(`http://127.0.0.1:${http.addr!.port}/`);
 * await res.body?.cancel();
 * await http.stop(AbortSignal.timeout(5_000));
 * console.log(res.status, sink.records[0].message); // 500 "server error"
 * console.log((await registry.metrics()).includes(
 *   'cqpm_http_server_errors_total{server="http",kind="handler"} 1',
 * )); // true
 * ```
 *
 * @param server A low-cardinality name for the server, such as `http`.
 * @param options The logger and registry to report to.
 * @returns `{ onError, onRefused }`, to spread into the `httpService` or
 *   `serve` options.
 */
export function serverHooks(
  server: string,
  options: ObserveOptions = {},
): {
  onError: (error: unknown) => void;
  onRefused: (reason: "invalid_host" | "shutting_down") => void;
} {
  checkName(server, "serverHooks: server");
  const refusals = options.registry?.counter({
    name: "http_requests_refused_total",
    help:
      "Requests an HTTP server answered itself before any handler, by reason: invalid_host (400) or shutting_down (503).",
    labelNames: ["server", "reason"],
  });
  const refused = {
    invalid_host: refusals?.labels({ server, reason: "invalid_host" }),
    shutting_down: refusals?.labels({ server, reason: "shutting_down" }),
  };
  const errors = options.registry?.counter({
    name: "http_server_errors_total",
    help:
      "Errors of an HTTP server, by kind: handler (escaped the handler, answered 500) or listener (an accept loop failed and the server listens again).",
    labelNames: ["server", "kind"],
  });
  const series = {
    listener: errors?.labels({ server, kind: "listener" }),
    handler: errors?.labels({ server, kind: "handler" }),
  };
  const { logger } = options;
  return {
    onError: (error) => {
      series[error instanceof ListenerError ? "listener" : "handler"]?.inc();
      logger?.error("server error", { server, error });
    },
    // Counted, not logged: a client chooses how many of these it sends.
    onRefused: (reason) => refused[reason]?.inc(),
  };
}

function checkName(name: unknown, what: string): void {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`${what} must be a non-empty string`);
  }
}
