import { serve } from "@cqi/http";
import { CONTENT_TYPES, negotiate } from "./exposition.ts";
import type { MetricsRegistry } from "./registry.ts";

/**
 * Options for {@linkcode metricsHandler}.
 *
 * @example Usage
 * ```ts
 * import { createRegistry, type MetricsHandlerOptions } from "@cqi/metrics";
 *
 * const options: MetricsHandlerOptions = {
 *   registry: createRegistry({ namespace: "shop" }),
 *   onError: (error) => console.error("scrape failed", error),
 * };
 * ```
 */
export interface MetricsHandlerOptions {
  /** The registry to expose. */
  registry: MetricsRegistry;
  /**
   * Receives an error thrown while collecting (a gauge's `collect`); the
   * scraper gets a plain 500. Default: `console.error`.
   */
  onError?: (error: unknown) => void;
}

/**
 * The `/metrics` endpoint as a handler (a `Handler` of `@cqi/http`): the
 * registry's
 * exposition in the Prometheus text format, or in OpenMetrics when the
 * `Accept` header asks for `application/openmetrics-text` (as Prometheus
 * does). Mount it under any route (`"GET /metrics"` in a `router`).
 *
 * @example Usage
 * ```ts
 * import { createRegistry, metricsHandler } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop" });
 * const handler = metricsHandler({ registry });
 * const res = await handler(new Request("http://localhost/metrics"));
 * console.log(res.headers.get("content-type"));
 * // "text/plain; version=0.0.4; charset=utf-8"
 * ```
 *
 * @param options The registry to expose and where collection errors go.
 * @returns The handler.
 */
export function metricsHandler(
  options: MetricsHandlerOptions,
): (req: Request) => Promise<Response> {
  const registry = options?.registry;
  if (typeof registry?.metrics !== "function") {
    throw new TypeError("metricsHandler: registry is required");
  }
  const onError = options.onError ?? defaultOnError;
  return async (req) => {
    const format = negotiate(req.headers.get("accept"));
    let body: string;
    try {
      body = await registry.metrics(format);
    } catch (error) {
      try {
        onError(error);
      } catch {
        // a failing reporter must not fail the scrape twice
      }
      return new Response("Internal Server Error", {
        status: 500,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    return new Response(req.method === "HEAD" ? null : body, {
      headers: {
        "content-type": CONTENT_TYPES[format],
        "cache-control": "no-store",
      },
    });
  };
}

/**
 * Options for {@linkcode serveMetrics}: the registry, the path and those of
 * `serve` from `@cqi/http`. The `metrics` section of `@cqi/config`
 * (`{ port, path }`) spreads into it.
 *
 * @example Usage
 * ```ts
 * import { createRegistry, type ServeMetricsOptions } from "@cqi/metrics";
 *
 * const options: ServeMetricsOptions = {
 *   registry: createRegistry({ namespace: "shop" }),
 *   port: 9090,
 *   path: "/metrics",
 * };
 * ```
 */
export interface ServeMetricsOptions {
  /** The registry to expose. */
  registry: MetricsRegistry;
  /** Port of the metrics server; `0` picks a free one. Default 9090 (not `PORT`). */
  port?: number;
  /** Path of the endpoint; other paths answer 404. Default `/metrics`. */
  path?: string;
  /** Interface to listen on. Default `0.0.0.0`. */
  hostname?: string;
  /** Aborting it shuts the server down. */
  signal?: AbortSignal;
  /** Shut down on SIGTERM and SIGINT. Default `true`, as `serve`. */
  handleSignals?: boolean;
  /** Milliseconds a scrape in flight gets to finish on shutdown. Default 10 s. */
  gracePeriod?: number;
  /** Called once the server listens. */
  onListen?: (addr: { hostname: string; port: number }) => void;
  /** Receives collection and server errors. Default: `console.error`. */
  onError?: (error: unknown) => void;
}

/**
 * The running metrics server (a `Server` of `@cqi/http`).
 *
 * @example Usage
 * ```ts
 * import { createRegistry, type MetricsServer, serveMetrics } from "@cqi/metrics";
 *
 * const server: MetricsServer = serveMetrics({
 *   registry: createRegistry({ namespace: "shop" }),
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * console.log(server.addr.port > 0); // true
 * await server.shutdown();
 * ```
 */
export interface MetricsServer extends AsyncDisposable {
  /** Where the server listens. */
  readonly addr: { hostname: string; port: number };
  /** Settles once shutdown is complete; never rejects. */
  readonly finished: Promise<void>;
  /**
   * Registers a hook run after the server has drained.
   *
   * @param hook Closes a resource.
   */
  onClose(hook: () => void | Promise<void>): void;
  /** Stops the server gracefully; idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Serves the `/metrics` endpoint on a port of its own (`metrics.port`),
 * apart from the application's server, with `serve` from `@cqi/http`
 * (graceful shutdown included). `GET` and `HEAD` on `path` get the
 * exposition; other paths 404 and other methods 405.
 *
 * @example Usage
 * ```ts
 * import { createRegistry, serveMetrics } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop" });
 * await using server = serveMetrics({
 *   registry,
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/metrics`);
 * console.log(res.status); // 200
 * await res.body?.cancel();
 * ```
 *
 * @param options The registry, port, path, and the options of `serve`.
 * @returns The running server.
 */
export function serveMetrics(options: ServeMetricsOptions): MetricsServer {
  const {
    registry,
    path = "/metrics",
    port = 9090,
    ...serveOptions
  } = options ?? {} as ServeMetricsOptions;
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new TypeError(
      `serveMetrics: path must start with "/", got ${JSON.stringify(path)}`,
    );
  }
  const handler = metricsHandler({ registry, onError: serveOptions.onError });
  return serve((req) => {
    if (new URL(req.url).pathname !== path) {
      return new Response("Not Found", { status: 404 });
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("Method Not Allowed", {
        status: 405,
        headers: { allow: "GET, HEAD" },
      });
    }
    return handler(req);
  }, { ...serveOptions, port });
}

function defaultOnError(error: unknown): void {
  console.error("@cqi/metrics: collecting metrics failed:", error);
}
