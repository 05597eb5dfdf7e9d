import type { StandardSchemaV1 } from "@cqi/errors";
import type { DescMessage, MessageShape } from "./protobuf_types.ts";

/**
 * Request options of an {@linkcode HttpClient}: `fetch`'s, plus two.
 *
 * @example Usage
 * ```ts
 * import type { HttpRequestInit } from "@cqi/httpclient";
 *
 * const init: HttpRequestInit = {
 *   method: "POST",
 *   body: JSON.stringify({ id: "o-1" }),
 *   headers: { "idempotency-key": "o-1" },
 *   idempotent: true, // safe to retry: the server dedupes by the key
 *   timeout: 2_000,
 * };
 * ```
 */
export interface HttpRequestInit extends RequestInit {
  /**
   * Marks the request as safe to retry whatever its method (a POST with an
   * idempotency key), or `false` to never retry it. Default: by method.
   */
  idempotent?: boolean;
  /** This call's deadline in milliseconds, instead of the client's. */
  timeout?: number;
}

/**
 * A `fetch` with retries, a circuit breaker per host, a rate limit, a
 * deadline, a client span and CQI errors, made by
 * `createHttpClient`. Called as a function it takes what `fetch`
 * takes and resolves to the `Response` of a status below 400; a status of
 * 400 or more rejects with a `CqiError` of the matching kind. `getJson` and
 * `post` read and check the body too.
 *
 * @example Usage
 * ```ts
 * import * as v from "valibot";
 * import { serve } from "@cqi/http";
 * import { createHttpClient } from "@cqi/httpclient";
 *
 * await using server = serve(() => Response.json({ bid: 99, ask: 101 }), {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 *   onListen: () => {},
 * });
 * await using client = createHttpClient({ baseUrl: `http://127.0.0.1:${server.addr.port}` });
 * const res = await client("/health");
 * console.log(res.status); // 200
 * const quote = await client.getJson("/quotes/BTC", v.object({ bid: v.number(), ask: v.number() }));
 * console.log(quote.ask); // 101
 * ```
 */
export interface HttpClient {
  /**
   * `fetch` through the client. The deadline covers the body read too:
   * read or cancel the body.
   *
   * @param input A path under the base URL, or an absolute URL or `Request`.
   * @param init Request options.
   * @returns The response, its status below 400.
   */
  (input: string | URL | Request, init?: HttpRequestInit): Promise<Response>;
  /**
   * GETs JSON (`accept: application/json`) and checks it with a Standard
   * Schema. Invalid JSON and a value the schema rejects are `permanent`
   * errors naming the request (the schema's `invalid_input` error, with its
   * fields, is the cause).
   *
   * @param path A path under the base URL, or an absolute URL.
   * @param schema Any Standard Schema (valibot, zod, ...).
   * @param init Request options.
   * @returns The schema's output.
   */
  getJson<S extends StandardSchemaV1>(
    path: string | URL,
    schema: S,
    init?: HttpRequestInit,
  ): Promise<StandardSchemaV1.InferOutput<S>>;
  /**
   * POSTs a protobuf message (`content-type: application/x-protobuf`) and
   * decodes the answer as `init.response` (default: the same schema). Not
   * retried unless `init.idempotent`. An answer that does not decode is a
   * `permanent` error naming the request.
   *
   * @param path A path under the base URL, or an absolute URL.
   * @param schema The message's schema.
   * @param message The message.
   * @param init Request options and the response's schema.
   * @returns The decoded answer.
   */
  post<Q extends DescMessage, R extends DescMessage = Q>(
    path: string | URL,
    schema: Q,
    message: MessageShape<Q>,
    init?: HttpRequestInit & { response?: R },
  ): Promise<MessageShape<R>>;
  /** Aborts calls in flight (with a `canceled` error) and refuses new ones. */
  close(): Promise<void>;
  /** Same as `close`. */
  [Symbol.asyncDispose](): Promise<void>;
}
