/**
 * CQI: service infrastructure for Deno and Bun. This umbrella module
 * re-exports the light modules as namespaces; heavy clients (databases,
 * caches, brokers) stay behind their own module imports.
 *
 * @example Usage
 * ```ts
 * import { errors, http, retry } from "@cqi/cqi";
 *
 * const handler = http.applyMiddleware(() => {
 *   throw errors.notFound("order", 1);
 * }, errors.recovery());
 * const res = await retry.retry(() => handler(new Request("http://localhost/orders/1")));
 * console.log(res.status); // 404
 * ```
 *
 * @module
 */
export * as auth from "@cqi/auth";
export * as config from "@cqi/config";
export * as errors from "@cqi/errors";
export * as health from "@cqi/health";
export * as http from "@cqi/http";
export * as logging from "@cqi/logging";
export * as metrics from "@cqi/metrics";
export * as retry from "@cqi/retry";
export * as service from "@cqi/service";
export * as tracing from "@cqi/tracing";
