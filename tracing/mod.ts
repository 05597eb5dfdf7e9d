/**
 * OpenTelemetry tracing for CQI services on Deno and Bun:
 * {@linkcode createTracing} sets up the provider (resource, sampler, batch
 * processor, OTLP over HTTP or gRPC, console or memory exporter);
 * {@linkcode httpTracing} gives each request a server span named
 * `{METHOD} {route}`; {@linkcode tracedFetch} gives each outgoing call a
 * client span and its own `traceparent`; {@linkcode startSpan} and
 * {@linkcode addEvent} trace the work in between; {@linkcode inject} and
 * {@linkcode extract} carry W3C Trace Context (Level 1, parsed exactly) and
 * baggage through any headers, including message headers. The active span
 * lives in the async context `@cqi/http` registers, so anything can read it
 * with `trace.getActiveSpan()` from `@opentelemetry/api`. Under Deno's
 * built-in OpenTelemetry (`OTEL_DENO=true`) CQI joins Deno's spans instead
 * of starting its own.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware, router, serve } from "@cqi/http";
 * import {
 *   addEvent,
 *   httpTracing,
 *   createTracing,
 *   startSpan,
 *   tracedFetch,
 * } from "@cqi/tracing";
 *
 * await using tracing = createTracing({
 *   service: { name: "quotes", version: "1.0.0", environment: "dev" },
 *   exporter: "memory", // "otlp-grpc" with endpoint "collector:4317" in production
 *   sampler: "always",
 * });
 * const app = router({
 *   "GET /quotes/:asset": (_req, { asset }) =>
 *     startSpan("quote.compute", () => {
 *       addEvent("cache.miss", { "cache.key": asset });
 *       return Response.json({ asset, price: 101.5 });
 *     }),
 * });
 * await using server = serve(applyMiddleware(app, httpTracing()), {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * await (await tracedFetch(`http://127.0.0.1:${server.addr.port}/quotes/BTC`)).json();
 * console.log(tracing.spans().map((s) => `${s.kind} ${s.name}`));
 * // ["internal quote.compute", "server GET /quotes/:asset", "client GET"]
 * ```
 *
 * @module
 */
export type {
  ActiveSpan,
  Attributes,
  AttributeValue,
  SpanIds,
  SpanKindName,
  TracingContext,
} from "./types.ts";
export { createTracing, type Tracing, type TracingOptions } from "./init.ts";
export type {
  ExporterName,
  OtlpProtocol,
  SpanExporterLike,
} from "./exporter.ts";
export type { FinishedSpan } from "./finished.ts";
export { addEvent, startSpan, type StartSpanOptions } from "./span.ts";
export { extract, inject } from "./propagation.ts";
export type { Carrier, CarrierValue, HeadersLike } from "./carrier.ts";
export {
  httpTracing,
  type HttpTracingOptions,
  traceErrors,
} from "./middleware.ts";
export { tracedFetch } from "./fetch.ts";
