/**
 * `fetch` with the resilience built in: {@linkcode createHttpClient} returns
 * a `fetch`-compatible function that retries what is worth retrying
 * (network errors, 429, 502, 503, 504; idempotent methods only; honouring
 * `Retry-After`), trips a circuit breaker per host, paces attempts with a
 * token bucket, enforces one deadline over headers and body, makes a client
 * span per attempt and turns every failure into a `CqiError` of the right
 * kind. `getJson` checks JSON with any Standard Schema; `post` sends and
 * receives protobuf messages. {@linkcode HttpClientHooks} report attempts
 * and breaker changes; `@cqi/service`'s `httpClientHooks()` wires them to
 * metrics and logs.
 *
 * @example Usage
 * ```ts
 * import * as v from "valibot";
 * import { isRateLimited } from "@cqi/errors";
 * import { serve } from "@cqi/http";
 * import { createHttpClient } from "@cqi/httpclient";
 *
 * await using server = serve(
 *   (req) =>
 *     new URL(req.url).pathname === "/prices/BTC"
 *       ? Response.json({ symbol: "BTC", price: 101.5 })
 *       : new Response("slow down", { status: 429, headers: { "retry-after": "0" } }),
 *   { port: 0, hostname: "127.0.0.1", handleSignals: false, onListen: () => {} },
 * );
 * await using prices = createHttpClient({
 *   baseUrl: `http://127.0.0.1:${server.addr.port}`,
 *   timeout: 2_000,
 *   retry: { maxAttempts: 2, initialDelay: 1 },
 * });
 * const Price = v.object({ symbol: v.string(), price: v.number() });
 * console.log(await prices.getJson("/prices/BTC", Price)); // { symbol: "BTC", price: 101.5 }
 * const error = await prices("/prices/ETH").catch((e) => e);
 * console.log(isRateLimited(error)); // true, after 2 attempts
 * ```
 *
 * @module
 */
export { createHttpClient } from "./client.ts";
export type { HttpClient, HttpRequestInit } from "./types.ts";
export type { HttpClientOptions, HttpRetryOptions } from "./options.ts";
export type { HttpClientHooks, RequestInfo } from "./hooks.ts";
export type { DescMessage, MessageShape } from "./protobuf_types.ts";
