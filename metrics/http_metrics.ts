import { trace, TraceFlags } from "@opentelemetry/api";
import { getRoute, HTTP_METHODS, withRequestScope } from "@cqi/http";
import { kindOf } from "@cqi/errors";
import type { CounterSeries } from "./counter.ts";
import type { GaugeSeries } from "./gauge.ts";
import {
  durationBuckets,
  type HistogramSeries,
  sizeBuckets,
} from "./histogram.ts";
import { recoveredKind } from "./recovery_metrics.ts";
import type { MetricsRegistry } from "./registry.ts";
import type { ExemplarLabels } from "./types.ts";

/**
 * Options for {@linkcode httpMetrics}.
 *
 * @example Usage
 * ```ts
 * import { createRegistry, type HttpMetricsOptions } from "@cqi/metrics";
 *
 * const options: HttpMetricsOptions = {
 *   registry: createRegistry({ namespace: "shop", defaultMetrics: false }),
 *   route: () => "/", // an app without a router serves one route
 * };
 * ```
 */
export interface HttpMetricsOptions {
  /** Where the HTTP metrics are registered. */
  registry: MetricsRegistry;
  /** Duration bucket bounds in seconds. Default `durationBuckets` (100 µs to 10 s). */
  buckets?: readonly number[];
  /**
   * Names the route pattern of a request that no router recorded one for
   * (with `setRoute`). It must return a pattern, never the raw path.
   * Default: none, such requests are labelled `unmatched`.
   */
  route?: (req: Request) => string | undefined;
  /**
   * How many distinct route patterns to keep as `path` values; further
   * ones are labelled `other` (`unmatched` and `other` do not count).
   * Default 1000.
   */
  maxPaths?: number;
  /**
   * How response sizes are known. `declared` (default): from
   * `Content-Length`, 0 without a body; a body of unknown length is not
   * observed — `Response.json()` declares none, `json()` of `@cqi/http`
   * does (0.2 µs). `counted`: such bodies are counted as they stream out
   * and observed when they end — exact, but each one goes through an extra
   * stream (2–6 µs a request, and it is sent chunked).
   */
  responseSize?: "declared" | "counted";
  /**
   * Attach the active OpenTelemetry span's `trace_id` and `span_id` as
   * exemplars (OpenMetrics only) when it is sampled. Default `true`.
   */
  exemplars?: boolean;
}

/** Methods kept as label values (`@cqi/http`'s list); anything else is `OTHER`. */
const METHODS: Readonly<Record<string, string>> = Object.assign(
  Object.create(null),
  Object.fromEntries(HTTP_METHODS.map((m) => [m, m])),
);

/** The `path` of requests without a route pattern. */
const UNMATCHED = "unmatched";
/** The `path` of route patterns beyond `maxPaths`. */
const OTHER = "other";

interface Bundle {
  /** The \`path\` label value. */
  path: string;
  duration: HistogramSeries;
  requestSize: HistogramSeries;
  responseSize: HistogramSeries;
  /** The count sample without an error type, once there is one. */
  count: CounterSeries | undefined;
}

/**
 * Middleware that records the standard HTTP server metrics of a service:
 *
 * - `{ns}_http_request_duration_seconds` (histogram, from 100 µs),
 * - `{ns}_http_request_count_total` (counter),
 * - `{ns}_http_request_size_bytes` and `{ns}_http_response_size_bytes`
 *   (histograms of body sizes),
 * - `{ns}_http_requests_in_flight` (gauge, no labels).
 *
 * Labels: `method` (unknown methods are `OTHER`), `path` — the route
 * pattern recorded by the router or the Hono adapter (`setRoute`), else
 * the `route` option, else `unmatched`; never the raw URL path —
 * `status_code`, and on the counter `error_type`: the kind of an error
 * that escaped (`permanent` for errors without one) or that `recovery`
 * recovered inside with {@linkcode recoveryMetrics} as its hook, empty
 * otherwise. A request whose handler throws is recorded as a 500 and the
 * error rethrown. The duration runs until the response is returned (its
 * headers are ready), not until its body is sent.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware, router, serve } from "@cqi/http";
 * import { createRegistry, httpMetrics, metricsHandler } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop" });
 * const app = router({
 *   "GET /orders/:id": (_req, { id }) => Response.json({ id }),
 *   "GET /metrics": metricsHandler({ registry }),
 * });
 * await using server = serve(applyMiddleware(app, httpMetrics({ registry })), {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * const base = `http://127.0.0.1:${server.addr.port}`;
 * await (await fetch(`${base}/orders/7`)).body?.cancel();
 * const text = await (await fetch(`${base}/metrics`)).text();
 * console.log(text.includes('path="/orders/:id"')); // true
 * ```
 *
 * @param options The registry, and how to label and size requests.
 * @returns The middleware (a `Middleware` of `@cqi/http`).
 */
export function httpMetrics(
  options: HttpMetricsOptions,
): (
  req: Request,
  next: (req: Request) => Promise<Response>,
) => Promise<Response> {
  const registry = options?.registry;
  if (typeof registry?.histogram !== "function") {
    throw new TypeError("httpMetrics: registry is required");
  }
  const maxPaths = options.maxPaths ?? 1000;
  if (!Number.isInteger(maxPaths) || maxPaths < 1) {
    throw new RangeError(
      `httpMetrics: maxPaths must be an integer >= 1, got ${maxPaths}`,
    );
  }
  const counted = options.responseSize === "counted";
  if (!counted && (options.responseSize ?? "declared") !== "declared") {
    throw new TypeError(
      `httpMetrics: responseSize must be "declared" or "counted", got ${
        JSON.stringify(options.responseSize)
      }`,
    );
  }
  const routeOf = options.route;
  // A throwing `route` option must not turn a good response into an error.
  const routeFallback = (req: Request): string | undefined => {
    try {
      return routeOf?.(req);
    } catch {
      return undefined;
    }
  };
  const exemplars = options.exemplars ?? true;
  const labelNames = ["method", "path", "status_code"] as const;
  const duration = registry.histogram({
    name: "http_request_duration_seconds",
    help: "Time from receiving an HTTP request to returning its response.",
    labelNames,
    buckets: options.buckets ?? durationBuckets,
  });
  const count = registry.counter({
    name: "http_request_count_total",
    help: "HTTP requests answered.",
    labelNames: [...labelNames, "error_type"],
  });
  const requestSize = registry.histogram({
    name: "http_request_size_bytes",
    help: "Size of HTTP request bodies.",
    labelNames,
    buckets: sizeBuckets,
  });
  const responseSize = registry.histogram({
    name: "http_response_size_bytes",
    help: "Size of HTTP response bodies.",
    labelNames,
    buckets: sizeBuckets,
  });
  const inFlight: GaugeSeries = registry.gauge({
    name: "http_requests_in_flight",
    help: "HTTP requests being handled.",
  }).labels({});

  const paths = new Set<string>();
  const bundles = new Map<string, Map<string, Map<number, Bundle>>>();
  const bundleOf = (method: string, route: string, status: number): Bundle => {
    let byPath = bundles.get(method);
    if (byPath === undefined) bundles.set(method, byPath = new Map());
    let byStatus = byPath.get(route);
    if (byStatus === undefined) {
      if (!paths.has(route) && route !== UNMATCHED && route !== OTHER) {
        if (paths.size >= maxPaths) return bundleOf(method, OTHER, status);
        paths.add(route);
      }
      byPath.set(route, byStatus = new Map());
    }
    let bundle = byStatus.get(status);
    if (bundle === undefined) {
      const labels = { method, path: route, status_code: status };
      bundle = {
        path: route,
        duration: duration.labels(labels),
        requestSize: requestSize.labels(labels),
        responseSize: responseSize.labels(labels),
        count: undefined,
      };
      byStatus.set(status, bundle);
    }
    return bundle;
  };

  const record = (
    req: Request,
    method: string,
    start: number,
    bodySize: number,
    res: Response | undefined,
    error: unknown,
  ): Response | undefined => {
    const seconds = (performance.now() - start) / 1000;
    inFlight.dec();
    const route = getRoute() || routeFallback(req) || UNMATCHED;
    const status = res === undefined ? 500 : res.status;
    const bundle = bundleOf(method, route, status);
    const exemplar = exemplars ? traceExemplar() : undefined;
    bundle.duration.observe(seconds, exemplar);
    if (bodySize >= 0) bundle.requestSize.observe(bodySize);
    // recovery answers errors with 4xx and 5xx statuses only
    const kind = res === undefined
      ? kindOf(error) ?? "permanent"
      : status >= 400
      ? recoveredKind.get()
      : undefined;
    if (kind === undefined) {
      (bundle.count ??= count.labels({
        method,
        path: bundle.path,
        status_code: status,
        error_type: "",
      })).inc(1, exemplar);
    } else {
      count.labels({
        method,
        path: bundle.path,
        status_code: status,
        error_type: kind,
      }).inc(1, exemplar);
    }
    if (res === undefined) return;
    const size = method === "HEAD" || bodiless(status)
      ? 0
      : declaredSize(res.headers.get("content-length"));
    if (size !== undefined) bundle.responseSize.observe(size);
    else if (counted) {
      if (res.body === null) bundle.responseSize.observe(0);
      else return countBody(res, (n) => bundle.responseSize.observe(n));
    }
    return res;
  };

  return (req, next) => {
    const start = performance.now();
    const method = METHODS[req.method] ?? "OTHER";
    const bodySize = requestBodySize(req, method);
    inFlight.inc();
    return withRequestScope(() =>
      next(req).then(
        (res) => record(req, method, start, bodySize, res, undefined)!,
        (error) => {
          try {
            record(req, method, start, bodySize, undefined, error);
          } catch {
            // the handler's error is the one to rethrow (a throwing `route`)
          }
          throw error;
        },
      )
    );
  };
}

// Reading `body` is avoided: on Deno it turns a static body into a stream,
// which costs microseconds on every request.

/**
 * A request's body size: its Content-Length; 0 without Content-Length and
 * Transfer-Encoding (HTTP/1.1 then has no body; a GET or HEAD is taken to
 * have none); -1 when unknown (chunked).
 */
function requestBodySize(req: Request, method: string): number {
  const size = declaredSize(req.headers.get("content-length"));
  if (size !== undefined) return size;
  if (method === "GET" || method === "HEAD") return 0;
  return req.headers.has("transfer-encoding") ? -1 : 0;
}

/** Statuses whose responses never have a body. */
function bodiless(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

function declaredSize(header: string | null): number | undefined {
  if (header === null || header === "") return undefined;
  const size = Number(header);
  return Number.isSafeInteger(size) && size >= 0 ? size : undefined;
}

function traceExemplar(): ExemplarLabels | undefined {
  const span = trace.getActiveSpan();
  if (span === undefined) return undefined;
  const { traceId, spanId, traceFlags, isRemote } = span.spanContext();
  if ((traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  // A remote span is the caller's (no tracer here started one of ours).
  return isRemote
    ? { trace_id: traceId }
    : { trace_id: traceId, span_id: spanId };
}

/** Passes the body through, counting its bytes; observes them at its end. */
function countBody(res: Response, observe: (bytes: number) => void): Response {
  const reader = res.body!.getReader();
  let bytes = 0;
  let finished = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      observe(bytes);
    }
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          finish();
          controller.close();
        } else {
          bytes += value?.byteLength ?? 0;
          controller.enqueue(value);
        }
      } catch (error) {
        finish();
        controller.error(error);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}
