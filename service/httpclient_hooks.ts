import { kindOf } from "@cqi/errors";
import { HTTP_METHODS } from "@cqi/http";
import { durationBuckets } from "@cqi/metrics";
import { type Clock, systemClock } from "@cqi/retry";
import type { ObserveOptions } from "./observe.ts";
import { seriesCache, throttle } from "./report_helpers.ts";

/**
 * Where {@linkcode httpClientHooks} reports, how many hosts it labels, and
 * the clock of its log throttle.
 *
 * @example Usage
 * ```ts
 * import { createRegistry } from "@cqi/metrics";
 * import type { HttpClientObserveOptions } from "@cqi/service";
 *
 * const options: HttpClientObserveOptions = {
 *   registry: createRegistry({ namespace: "cqpm" }),
 *   maxHosts: 10,
 * };
 * ```
 */
export interface HttpClientObserveOptions extends ObserveOptions {
  /** Distinct `host` label values; later hosts are labelled `other`. Default 50. */
  maxHosts?: number;
  /** The clock of the breaker lines' throttle (only `now()` is used). Default the system clock. */
  clock?: Clock;
}

// An attempt and a breaker change as `@cqi/httpclient` describes them to
// its hooks (written out in the signature below: service does not import
// the httpclient module, which sits above it).
type Hooks = ReturnType<typeof httpClientHooks>;
type RequestInfo = Parameters<Hooks["onRequest"]>[0];
type BreakerChange = Parameters<Hooks["onBreakerStateChange"]>[0];

const METHODS: ReadonlySet<string> = new Set(HTTP_METHODS);

/**
 * The `hooks` of `createHttpClient()` from `@cqi/httpclient`:
 * - `{ns}_http_client_request_duration_seconds{host, method, status_class}`
 *   per attempt, from its start to the response's headers (to the body's
 *   end for `getJson` and `post`) or the failure. `status_class` is `2xx`,
 *   `3xx`, `4xx`, `5xx`, or for no response the error's kind (`timeout`,
 *   `temporary`, `canceled`, ...). Label values stay bounded: methods
 *   outside `HTTP_METHODS` are `OTHER`, hosts after the first `maxHosts`
 *   are `other`;
 * - a `warn` line `circuit breaker opened` or an `info` line `circuit
 *   breaker state changed` with `host`, `from` and `to` when a host's
 *   breaker changes state, at most one per host every 10 s (the next line
 *   says in `suppressed` how many were left out).
 *
 * Paths, queries, headers and bodies never reach a metric or a line, and
 * a failing logger or registry never fails a call. Tracing needs no hook:
 * the client makes a client span per attempt.
 *
 * @example Usage
 * ```ts
 * import { serve } from "@cqi/http";
 * import { createHttpClient } from "@cqi/httpclient";
 * import { createRegistry } from "@cqi/metrics";
 * import { httpClientHooks } from "@cqi/service";
 *
 * await using server = serve(() => new Response("ok"), {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 *   onListen: () => {},
 * });
 * const registry = createRegistry({ namespace: "cqpm" });
 * await using client = createHttpClient({
 *   baseUrl: `http://127.0.0.1:${server.addr.port}`,
 *   hooks: httpClientHooks({ registry }),
 * });
 * await (await client("/")).text();
 * console.log((await registry.metrics()).includes(
 *   `cqpm_http_client_request_duration_seconds_count{host="127.0.0.1:${server.addr.port}",method="GET",status_class="2xx"} 1`,
 * )); // true
 * ```
 *
 * @param options The logger and registry, the host limit, the throttle's clock.
 * @returns `{ onRequest, onBreakerStateChange }`, the client's `hooks` option.
 */
export function httpClientHooks(options: HttpClientObserveOptions = {}): {
  onRequest: (
    info: {
      host: string;
      method: string;
      status?: number;
      attempt: number;
      duration: number;
      error?: unknown;
    },
  ) => void;
  onBreakerStateChange: (
    change: { host: string; from: string; to: string },
  ) => void;
} {
  const { logger, registry } = options;
  const maxHosts = options.maxHosts ?? 50;
  if (!(Number.isInteger(maxHosts) && maxHosts >= 0)) {
    throw new RangeError(
      `httpClientHooks: maxHosts must be an integer >= 0, got ${maxHosts}`,
    );
  }
  const clock = options.clock ?? systemClock;
  const durations = registry?.histogram({
    name: "http_client_request_duration_seconds",
    help:
      "Duration of outgoing HTTP requests (each attempt), to the response's headers or the failure, by host, method and status class.",
    labelNames: ["host", "method", "status_class"],
    buckets: durationBuckets,
  });
  const cached = seriesCache();
  const throttled = throttle(clock);
  const hosts = new Set<string>();
  const hostLabel = (host: string) => {
    if (hosts.has(host)) return host;
    if (hosts.size >= maxHosts) return "other";
    hosts.add(host);
    return host;
  };

  const onRequest = (info: RequestInfo) => {
    quietly(() => {
      if (durations === undefined || !(info.duration >= 0)) return;
      const host = hostLabel(String(info.host));
      const method = METHODS.has(info.method) ? info.method : "OTHER";
      const status = info.status;
      const statusClass = typeof status === "number" && status >= 100 &&
          status < 600
        ? `${Math.floor(status / 100)}xx`
        : kindOf(info.error) ?? "unknown";
      cached(
        `${host}\0${method}\0${statusClass}`,
        () => durations.labels({ host, method, status_class: statusClass }),
      ).observe(info.duration / 1000);
    });
  };

  const onBreakerStateChange = (change: BreakerChange) => {
    if (logger === undefined) return;
    quietly(() => {
      const suppressed = throttled(change.host);
      if (suppressed === undefined) return;
      const fields = {
        host: change.host,
        from: change.from,
        to: change.to,
        ...(suppressed > 0 && { suppressed }),
      };
      if (change.to === "open") logger.warn("circuit breaker opened", fields);
      else logger.info("circuit breaker state changed", fields);
    });
  };

  return { onRequest, onBreakerStateChange };
}

/** Runs `fn`, ignoring its failure: reporting never changes a call. */
function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // a failing logger or registry changes nothing
  }
}
