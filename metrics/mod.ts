/**
 * Prometheus metrics for CQI services: a registry per service with naming
 * rules checked at registration, typed counters, gauges, histograms and
 * summaries, the standard HTTP server metrics from one middleware
 * ({@linkcode httpMetrics}), a gRPC call recorder, a recovery hook that
 * counts errors by kind, and the `/metrics` endpoint in the Prometheus text
 * format or OpenMetrics. Process metrics come from prom-client and, for
 * memory and file descriptors, from `process.memoryUsage` and Linux `/proc`.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware, router, serve } from "@cqi/http";
 * import { recovery } from "@cqi/errors";
 * import {
 *   createRegistry,
 *   httpMetrics,
 *   metricsHandler,
 *   recoveryMetrics,
 * } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop" });
 * const placed = registry.counter({
 *   name: "orders_placed_total",
 *   help: "Orders placed.",
 *   labelNames: ["side"],
 * });
 * const app = router({
 *   "POST /orders": () => {
 *     placed.inc({ side: "buy" });
 *     return Response.json({ ok: true }, { status: 201 });
 *   },
 *   "GET /metrics": metricsHandler({ registry }),
 * });
 * const handler = applyMiddleware(
 *   app,
 *   httpMetrics({ registry }),
 *   recovery({ onError: recoveryMetrics({ registry }) }),
 * );
 * await using server = serve(handler, {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * const base = `http://127.0.0.1:${server.addr.port}`;
 * await (await fetch(`${base}/orders`, { method: "POST" })).body?.cancel();
 * const text = await (await fetch(`${base}/metrics`)).text();
 * console.log(text.includes('shop_orders_placed_total{side="buy"} 1')); // true
 * ```
 *
 * @module
 */
export {
  createRegistry,
  type MetricsRegistry,
  type RegistryOptions,
} from "./registry.ts";
export type {
  ExemplarLabels,
  Labels,
  LabelValue,
  MetricOptions,
  WithLabels,
} from "./types.ts";
export type { Counter, CounterOptions, CounterSeries } from "./counter.ts";
export type { Gauge, GaugeOptions, GaugeSeries } from "./gauge.ts";
export {
  durationBuckets,
  type Histogram,
  type HistogramOptions,
  type HistogramSeries,
  sizeBuckets,
} from "./histogram.ts";
export type { Summary, SummaryOptions, SummarySeries } from "./summary.ts";
export type { ExpositionFormat } from "./exposition.ts";
export { httpMetrics, type HttpMetricsOptions } from "./http_metrics.ts";
export {
  type GrpcCall,
  type GrpcMetrics,
  grpcMetrics,
  type GrpcMetricsOptions,
} from "./grpc_metrics.ts";
export {
  recoveryMetrics,
  type RecoveryMetricsOptions,
} from "./recovery_metrics.ts";
export {
  metricsHandler,
  type MetricsHandlerOptions,
  type MetricsServer,
  serveMetrics,
  type ServeMetricsOptions,
} from "./handler.ts";
