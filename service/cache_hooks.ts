import { kindOf } from "@cqi/errors";
import { durationBuckets } from "@cqi/metrics";
import { type Clock, systemClock } from "@cqi/retry";
import { startSpan } from "@cqi/tracing";
import type { ObserveOptions } from "./observe.ts";
import { seriesCache, throttle } from "./report_helpers.ts";

/**
 * Where {@linkcode cacheHooks} reports, whether commands become spans, and
 * the clock of its log throttle.
 *
 * @example Usage
 * ```ts
 * import type { CacheObserveOptions } from "@cqi/service";
 *
 * const options: CacheObserveOptions = { tracing: false };
 * ```
 */
export interface CacheObserveOptions extends ObserveOptions {
  /** Whether each command becomes a client span (when tracing is set up). Default true. */
  tracing?: boolean;
  /** The clock of the `cache degraded` line's throttle (only `now()` is used). Default the system clock. */
  clock?: Clock;
}

// A command as `@cqi/cache` describes it to its hooks, and what it reports
// (written out in the signature below: service does not import the cache
// module, which sits above it).
type CommandInfo = Parameters<ReturnType<typeof cacheHooks>["onCommand"]>[0];
type CacheEvent = Parameters<ReturnType<typeof cacheHooks>["onEvent"]>[0];

/**
 * The hooks of `createCache()` from `@cqi/cache`, reporting the cache named
 * `cache`. Below, `namespace` is a key's prefix, as given to the cache's
 * `key()`:
 * - `{ns}_cache_command_duration_seconds{cache, operation, outcome}` per
 *   backend round trip, where outcome is `ok` or the error's kind
 *   (`temporary`, `timeout`, ...);
 * - a client span per command named after its operation (`get`, `set`, ...),
 *   with OpenTelemetry's `db.system.name`, `db.operation.name`,
 *   `server.address` and `server.port`, and on failure the error;
 * - `{ns}_cache_requests_total{cache, namespace, result, tier}` per lookup,
 *   where result is `hit`, `miss` or `stale` (a value past its ttl served
 *   from grace) and tier is where a hit came from, `l1` (in process) or `l2`
 *   (the backend), empty otherwise. A label of its own rather than
 *   `hit_l1`/`hit_l2` results: the series are the same four either way,
 *   and the hit ratio stays `result="hit"` over all without a regex;
 * - `{ns}_cache_loads_total{cache, namespace, outcome}` per loader run
 *   (`ok` or the error's kind) and `{ns}_cache_load_duration_seconds{cache,
 *   namespace}`;
 * - for each failure the cache went on without (a lookup that fell back to
 *   loading, a failed invalidation or refresh):
 *   `{ns}_cache_errors_total{cache, operation, kind}` and a `warn` line
 *   `cache degraded` with `cache`, `namespace`, `operation`, `error_kind` and
 *   `error_message` (the message alone: no cause, no stack), at most one per
 *   operation every 10 s so that an outage does not flood the log; the next
 *   line says in `suppressed` how many were left out.
 *
 * Keys and values never reach a log line, a metric or a span. `bootstrap()`
 * gives one bound to its logger, registry and tracing.
 *
 * @example Usage
 * ```ts
 * import { createCache } from "@cqi/cache";
 * import { json } from "@cqi/codec";
 * import { createRegistry } from "@cqi/metrics";
 * import { cacheHooks } from "@cqi/service";
 *
 * const registry = createRegistry({ namespace: "cqpm" });
 * await using cache = createCache("memory://", {
 *   service: { name: "cqpm" },
 *   ...cacheHooks("main", { registry }),
 * });
 * await cache.find(cache.key("price", "BTC"), json<number>());
 * console.log((await registry.metrics()).includes(
 *   'cqpm_cache_requests_total{cache="main",namespace="price",result="miss",tier=""} 1',
 * )); // true
 * ```
 *
 * @param cache A low-cardinality name for the cache, such as `main`.
 * @param options The logger and registry, tracing, the throttle's clock.
 * @returns `{ onCommand, onEvent }`, to spread into the `createCache` options.
 */
export function cacheHooks(
  cache: string,
  options: CacheObserveOptions = {},
): {
  onCommand: (
    info: {
      operation: string;
      namespace: string;
      system: string;
      keys: number;
      serverAddress?: string;
      serverPort?: number;
    },
    run: () => Promise<unknown>,
  ) => Promise<unknown>;
  onEvent: (
    event: {
      type: "hit" | "miss" | "stale" | "load" | "error";
      namespace: string;
      tier?: "l1" | "l2";
      duration?: number;
      error?: { kind: string; message: string };
      operation?: string;
    },
  ) => void;
} {
  if (typeof cache !== "string" || cache === "") {
    throw new TypeError("cacheHooks: cache must be a non-empty string");
  }
  const { logger, registry } = options;
  const clock = options.clock ?? systemClock;
  const commands = registry?.histogram({
    name: "cache_command_duration_seconds",
    help:
      "Duration of cache backend round trips, by operation and outcome (ok or the error kind).",
    labelNames: ["cache", "operation", "outcome"],
    buckets: durationBuckets,
  });
  const requests = registry?.counter({
    name: "cache_requests_total",
    help:
      "Cache lookups, by key namespace and result (hit, miss, stale), with the tier of a hit (l1 in process, l2 the backend).",
    labelNames: ["cache", "namespace", "result", "tier"],
  });
  const loads = registry?.counter({
    name: "cache_loads_total",
    help:
      "Cache loader runs, by key namespace and outcome (ok or the error kind).",
    labelNames: ["cache", "namespace", "outcome"],
  });
  const loadDurations = registry?.histogram({
    name: "cache_load_duration_seconds",
    help: "Duration of cache loader runs, by key namespace.",
    labelNames: ["cache", "namespace"],
    buckets: durationBuckets,
  });
  const errors = registry?.counter({
    name: "cache_errors_total",
    help:
      "Cache backend failures the cache went on without, by operation and error kind.",
    labelNames: ["cache", "operation", "kind"],
  });

  const cached = seriesCache();

  const measure = (info: CommandInfo, run: () => Promise<unknown>) => {
    if (commands === undefined) return run();
    const started = performance.now();
    const record = (outcome: string) =>
      cached(
        `c\0${info.operation}\0${outcome}`,
        () => commands.labels({ cache, operation: info.operation, outcome }),
      ).observe((performance.now() - started) / 1000);
    return run().then((value) => {
      record("ok");
      return value;
    }, (error) => {
      record(kindOf(error) ?? "error");
      throw error;
    });
  };

  const onCommand = options.tracing === false ? measure : (
    info: CommandInfo,
    run: () => Promise<unknown>,
  ) =>
    startSpan(
      info.operation,
      () => measure(info, run),
      spanAttributes(info),
      { kind: "client" },
    );

  // At most one `cache degraded` line per operation every 10 s; the next
  // says how many were left out.
  const throttled = throttle(clock);
  const degraded = (
    namespace: string,
    operation: string,
    error: { kind: string; message: string } | undefined,
  ) => {
    if (logger === undefined) return;
    const suppressed = throttled(operation);
    if (suppressed === undefined) return;
    logger.warn("cache degraded", {
      cache,
      namespace,
      operation,
      error_kind: error?.kind ?? "error",
      error_message: error?.message ?? "",
      ...(suppressed > 0 && { suppressed }),
    });
  };

  const onEvent = (event: CacheEvent) => {
    const { namespace } = event;
    switch (event.type) {
      case "hit":
      case "miss":
      case "stale": {
        if (requests === undefined) return;
        const tier = event.type === "hit" ? event.tier ?? "" : "";
        cached(
          `r\0${namespace}\0${event.type}\0${tier}`,
          () => requests.labels({ cache, namespace, result: event.type, tier }),
        ).inc();
        return;
      }
      case "load": {
        if (loads === undefined || loadDurations === undefined) return;
        const outcome = event.error === undefined ? "ok" : event.error.kind;
        cached(
          `l\0${namespace}\0${outcome}`,
          () => loads.labels({ cache, namespace, outcome }),
        ).inc();
        if (typeof event.duration === "number") {
          cached(
            `d\0${namespace}`,
            () => loadDurations.labels({ cache, namespace }),
          ).observe(event.duration / 1000);
        }
        return;
      }
      case "error": {
        const operation = event.operation ?? "other";
        const kind = event.error?.kind ?? "error";
        if (errors !== undefined) {
          cached(
            `e\0${operation}\0${kind}`,
            () => errors.labels({ cache, operation, kind }),
          ).inc();
        }
        degraded(namespace, operation, event.error);
        return;
      }
    }
  };

  return { onCommand, onEvent };
}

function spanAttributes(info: CommandInfo): Record<string, string | number> {
  const attributes: Record<string, string | number> = {
    "db.system.name": info.system,
    "db.operation.name": info.operation,
  };
  if (info.serverAddress !== undefined) {
    attributes["server.address"] = info.serverAddress;
  }
  if (info.serverPort !== undefined) {
    attributes["server.port"] = info.serverPort;
  }
  return attributes;
}
