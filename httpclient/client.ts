import { protobuf } from "@cqi/codec";
import {
  canceled,
  invalidInput,
  kindOf,
  permanent,
  schemaError,
  type StandardSchemaV1,
  temporary,
  timeout as timeoutError,
} from "@cqi/errors";
import {
  type CircuitBreaker,
  createCircuitBreaker,
  createRateLimiter,
  exponential,
  raceSignal,
  type RateLimiter,
  retry,
  systemClock,
} from "@cqi/retry";
import { tracedFetch } from "@cqi/tracing";
import { isReplayable, readBytes } from "./body.ts";
import { failureOf } from "./failure.ts";
import type { RequestInfo } from "./hooks.ts";
import { checkMethod } from "./method.ts";
import {
  deadline as checkDeadline,
  type HttpClientOptions,
  IDEMPOTENT_METHODS,
  millis,
} from "./options.ts";
import type { DescMessage, MessageShape } from "./protobuf_types.ts";
import { type Hop, isRedirect, nextHop } from "./redirect.ts";
import { parseRetryAfter } from "./retry_after.ts";
import { scrubbed } from "./scrub.ts";
import { excerptOf, RETRYABLE_STATUSES, statusError } from "./status.ts";
import { type Base, parseBase, resolve, within } from "./target.ts";
import type { HttpClient, HttpRequestInit } from "./types.ts";

/**
 * Creates an {@linkcode HttpClient}. Each call:
 * - resolves its URL under `baseUrl` (a path cannot leave it);
 * - makes up to `retry.maxAttempts` attempts while the answer is 429, 502,
 *   503 or 504 or the network failed, for idempotent methods with a body
 *   that can be sent again (a string, bytes, a `Blob`, `FormData`,
 *   `URLSearchParams`: a stream or async iterable is sent once), waiting
 *   with exponential backoff or as long as
 *   `Retry-After` says (capped at `retry.maxRetryAfter`); every retried
 *   answer's body is cancelled, so no connection is held;
 * - goes through the host's circuit breaker (an open one fails fast with a
 *   `temporary` error, not retried) and takes a token from `rateLimit` for
 *   every request on the wire, redirects included;
 * - has a client span per attempt carrying `traceparent` (`tracedFetch`);
 * - ends at the deadline (`timeout`, headers and body alike) with a
 *   `timeout` error, at `init.signal`'s abort with its reason, and at
 *   `close()` with a `canceled` error;
 * - follows at most 5 redirects itself, only within the origin (and the
 *   base URL's path): any other fails with a `permanent` error, not retried
 *   and not a breaker failure (`redirect: "manual"` returns the 3xx);
 * - fetches only `http:` and `https:` URLs, with a method that is a token
 *   and not `CONNECT`, `TRACE` or `TRACK` (on Bun, one its fetch carries:
 *   it sends others as GET), and a valid `redirect` (a `TypeError` before
 *   anything).
 *
 * A status of 400 or more becomes a `CqiError` whose message names the
 * method, host, path and status (never the query or credentials), with at
 * most 256 characters of the body in its cause: 400 and 422
 * `invalid_input`, 401 `unauthorized`, 403 `forbidden`, 404 and 410
 * `not_found`, 408 and 504 `timeout`, 409 `conflict`, 413 `too_large`, 429
 * `rate_limited`, 501 `permanent`, other 5xx `temporary`, other 4xx
 * `permanent`; network errors are `temporary`; a request fetch refuses to
 * send (an invalid URL, a blocked port) is `invalid_input` or `permanent`,
 * not retried and not counted by the breaker.
 *
 * @example Retries, errors and a deadline
 * ```ts
 * import { isNotFound } from "@cqi/errors";
 * import { serve } from "@cqi/http";
 * import { createHttpClient } from "@cqi/httpclient";
 *
 * let calls = 0;
 * await using server = serve((req) => {
 *   if (new URL(req.url).pathname === "/flaky" && ++calls < 3) {
 *     return new Response("busy", { status: 503, headers: { "retry-after": "0" } });
 *   }
 *   return new URL(req.url).pathname === "/flaky"
 *     ? new Response("ok")
 *     : new Response("no such order", { status: 404 });
 * }, { port: 0, hostname: "127.0.0.1", handleSignals: false, onListen: () => {} });
 * await using client = createHttpClient({
 *   baseUrl: `http://127.0.0.1:${server.addr.port}/`,
 *   timeout: 2_000,
 *   retry: { initialDelay: 1 },
 * });
 * console.log(await (await client("flaky")).text(), calls); // "ok" 3
 * const error = await client("orders/9").catch((e) => e);
 * console.log(isNotFound(error), error.message);
 * // true "GET 127.0.0.1:…/orders/9 answered 404"
 * ```
 *
 * @param options Base URL, deadline, retry, breaker, rate limit, headers, hooks.
 * @returns The client.
 * @throws {TypeError} When `baseUrl` is not an http(s) URL or an option has the wrong type.
 * @throws {RangeError} When a number option is out of range (`timeout`
 *   above 2^31 - 1 ms and not `Infinity`, too).
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const base: Base | undefined = options.baseUrl === undefined
    ? undefined
    : parseBase(options.baseUrl);
  const deadlineMs = checkDeadline(options.timeout, 30_000);
  const maxResponseBytes = millis(
    "maxResponseBytes",
    options.maxResponseBytes,
    8 * 1024 * 1024,
  );
  const clock = options.clock ?? systemClock;
  const defaults = new Headers(options.headers);
  const retryOptions = options.retry === false
    ? undefined
    : options.retry ?? {};
  const maxAttempts = retryOptions?.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(
      `createHttpClient: retry.maxAttempts must be an integer >= 1, got ${maxAttempts}`,
    );
  }
  const maxRetryAfter = millis(
    "retry.maxRetryAfter",
    retryOptions?.maxRetryAfter,
    30_000,
  );
  const backoff = exponential({
    initialDelay: retryOptions?.initialDelay,
    maxDelay: retryOptions?.maxDelay ?? 2_000,
    jitter: retryOptions?.jitter,
  });
  const budget = retryOptions?.budget;
  const retryMethods = new Set(
    (retryOptions?.methods ?? IDEMPOTENT_METHODS).map((m) => m.toUpperCase()),
  );
  const limiter: RateLimiter | undefined = options.rateLimit === undefined
    ? undefined
    : "acquire" in options.rateLimit
    ? options.rateLimit
    : createRateLimiter({ ...options.rateLimit, clock });
  const breakerOptions = options.breaker === false
    ? undefined
    : options.breaker ?? {};
  const hooks = options.hooks ?? {};
  const breakers = new Map<string, CircuitBreaker>();
  const closing = new AbortController();
  // The errors (of statuses and the network) worth another attempt.
  const retryable = new WeakSet<object>();
  // The errors of answers that say nothing against the host (a redirect
  // refused): never a breaker failure.
  const answered = new WeakSet<object>();
  // The errors that say nothing about the host (a request fetch refuses to
  // send, our own rate limit on a redirect): neither success nor failure
  // for its breaker, which sees a `canceled` stand-in for them.
  const neutral = new WeakSet<object>();
  const standIns = new WeakMap<object, unknown>();

  // The least recently used first: a breaker used again moves to the end.
  const breakerOf = (host: string): CircuitBreaker | undefined => {
    if (breakerOptions === undefined) return undefined;
    let breaker = breakers.get(host);
    if (breaker !== undefined) {
      breakers.delete(host);
    } else {
      if (breakers.size >= MAX_BREAKERS) {
        breakers.delete(breakers.keys().next().value!);
      }
      breaker = createCircuitBreaker({
        ...breakerOptions,
        name: host,
        clock,
        onStateChange: ({ from, to }) =>
          quietly(() => hooks.onBreakerStateChange?.({ host, from, to })),
      });
    }
    breakers.set(host, breaker);
    return breaker;
  };

  const report = (info: RequestInfo) => quietly(() => hooks.onRequest?.(info));

  /**
   * One call: the attempts, each made by `read(res)` on a status below
   * 400; `finish` clears the deadline once the caller is done.
   */
  async function call<T>(
    input: string | URL | Request,
    init: HttpRequestInit,
    read: (res: Response, where: string, signal: AbortSignal) => Promise<T>,
  ): Promise<
    { value: T; finish: () => void; where: string; signal: AbortSignal }
  > {
    closing.signal.throwIfAborted();
    const request = input instanceof Request ? input : undefined;
    const method = checkMethod(init.method ?? request?.method ?? "GET");
    const { url, authorization } = resolve(
      base,
      request?.url ?? input as string | URL,
    );
    const where = `${method} ${url.host}${url.pathname}`;
    const headers = new Headers(defaults);
    for (const source of [request?.headers, init.headers]) {
      if (source !== undefined) {
        new Headers(source).forEach((value, key) => headers.set(key, value));
      }
    }
    if (authorization !== undefined && !headers.has("authorization")) {
      headers.set("authorization", authorization);
    }
    const body = init.body !== undefined ? init.body : request?.body ?? null;
    if (body !== null && (method === "GET" || method === "HEAD")) {
      throw new TypeError(`httpclient: a ${method} request cannot have a body`);
    }
    const replayable = isReplayable(body);
    const retries = retryOptions !== undefined && replayable &&
      (init.idempotent ?? retryMethods.has(method));
    const ms = checkDeadline(init.timeout, deadlineMs, "httpclient");
    // Redirects are followed here, not by the runtime (see redirect.ts).
    const redirect = init.redirect ?? request?.redirect ?? "follow";
    if (!REDIRECT_MODES.has(redirect)) {
      throw new TypeError(
        `httpclient: ${
          JSON.stringify(String(redirect).slice(0, 32))
        } is not a redirect mode (follow, error or manual)`,
      );
    }

    const deadline = new AbortController();
    const timer = ms === Infinity ? undefined : setTimeout(
      () => deadline.abort(timeoutError(`${where}: no answer within ${ms} ms`)),
      ms,
    );
    unref(timer);
    const finish = () => clearTimeout(timer);
    const signals = [deadline.signal, closing.signal];
    for (const s of [init.signal, request?.signal]) if (s) signals.push(s);
    const signal = AbortSignal.any(signals);
    const breaker = breakerOf(url.host);
    const fetchInit: RequestInit = {
      ...init,
      method,
      headers,
      body,
      signal,
      redirect: "manual",
    };
    if (!replayable) (fetchInit as { duplex?: string }).duplex = "half";

    const send = async ({ url, init }: Hop): Promise<Response> => {
      try {
        return await tracedFetch(url, init);
      } catch (cause) {
        if (signal.aborted) throw signal.reason;
        // The runtime's error may name the whole URL: query, credentials.
        const failure = failureOf(cause);
        if (failure === "network") {
          const error = temporary(`${where}: the request failed`, {
            cause: scrubbed(cause),
          });
          retryable.add(error);
          throw error;
        }
        // A request fetch refuses to send: no attempt changes that.
        const error = (failure === "url" ? invalidInput : permanent)(
          `${where}: fetch refused to send the request`,
          { cause: scrubbed(cause) },
        );
        neutral.add(error);
        throw error;
      }
    };

    const exchange = async (): Promise<{ res: Response; value: T }> => {
      let hop: Hop = { url, init: fetchInit };
      let res = await send(hop);
      for (let hops = 0; redirect !== "manual" && isRedirect(res); hops++) {
        await res.body?.cancel().catch(() => {});
        try {
          hop = nextHop(
            res,
            hop,
            hops,
            redirect,
            where,
            (next) => within(base, next, url),
          );
        } catch (error) {
          answered.add(error as object);
          throw error;
        }
        // Every request on the wire takes a token, a redirect's too.
        if (limiter !== undefined) {
          await limiter.acquire(signal).catch((error) => {
            neutral.add(error);
            throw error;
          });
        }
        res = await send(hop);
      }
      if (res.status >= 400) {
        const wait = res.status === 429 || res.status === 503
          ? parseRetryAfter(
            res.headers.get("retry-after"),
            Date.now(),
            maxRetryAfter,
          )
          : undefined;
        const error = statusError(
          where,
          res.status,
          await excerptOf(res),
          wait,
        );
        if (RETRYABLE_STATUSES.has(res.status)) retryable.add(error);
        statuses.set(error, res.status);
        throw error;
      }
      try {
        return { res, value: await read(res, where, signal) };
      } catch (error) {
        // a connection that broke mid-body is worth another attempt
        if (!signal.aborted && kindOf(error) === "temporary") {
          retryable.add(error as object);
        }
        throw error;
      }
    };

    const attempt = async ({ attempt }: { attempt: number }) => {
      const started = performance.now();
      try {
        // Outside the breaker: our own limit says nothing about the host.
        if (limiter !== undefined) await limiter.acquire(signal);
        const outcome = breaker === undefined
          ? await exchange()
          : await breaker.execute(() =>
            exchange().catch((error) => {
              // The caller left: nothing learnt about the host (the caller
              // gets its reason, see below).
              if (signal.aborted && !deadline.signal.aborted) {
                throw canceled(`${where}: canceled`, { cause: error });
              }
              // The host answered: a success for its breaker.
              if (answered.has(error)) return { refused: error as unknown };
              if (neutral.has(error)) {
                const standIn = canceled(`${where}: not sent`);
                standIns.set(standIn, error);
                throw standIn;
              }
              throw error;
            })
          );
        if ("refused" in outcome) throw outcome.refused;
        const { res, value } = outcome;
        report({
          host: url.host,
          method,
          status: res.status,
          attempt,
          duration: performance.now() - started,
        });
        return value;
      } catch (thrown) {
        const error = signal.aborted
          ? signal.reason
          : standIns.get(thrown as object) ?? thrown;
        report({
          host: url.host,
          method,
          status: statuses.get(error as object),
          attempt,
          duration: performance.now() - started,
          error,
        });
        throw error;
      }
    };

    try {
      const started = clock.now();
      let first: unknown;
      if (!retries || budget === undefined) {
        // The first attempt outside the retry loop: most calls need no more.
        try {
          return {
            value: await attempt({ attempt: 1 }),
            finish,
            where,
            signal,
          };
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          if (!retries || !retryable.has(error as object)) throw error;
          first = error;
        }
      }
      const value = await retry(
        (context) =>
          context.attempt === 1 && first !== undefined
            ? Promise.reject(first)
            : attempt(context),
        {
          maxAttempts,
          backoff,
          random: retryOptions?.random,
          budget,
          retryIf: (error) => retryable.has(error as object),
          maxElapsed: ms === Infinity
            ? undefined
            : Math.max(0, ms - (clock.now() - started)),
          signal,
          clock,
        },
      );
      return { value, finish, where, signal };
    } catch (error) {
      finish();
      throw error;
    }
  }

  const client = async (
    input: string | URL | Request,
    init: HttpRequestInit = {},
  ): Promise<Response> => {
    const { value, finish } = await call(
      input,
      init,
      (res) => Promise.resolve(res),
    );
    // Without a body there is nothing left to time; with one, the deadline
    // stays armed (unreferenced) until it passes, to cover the body read.
    if (value.body === null) finish();
    return value;
  };

  const getJson = async <S extends StandardSchemaV1>(
    path: string | URL,
    schema: S,
    init: HttpRequestInit = {},
  ): Promise<StandardSchemaV1.InferOutput<S>> => {
    if (typeof schema?.["~standard"]?.validate !== "function") {
      throw new TypeError("getJson: schema must be a Standard Schema");
    }
    const headers = new Headers(init.headers);
    if (!headers.has("accept")) headers.set("accept", "application/json");
    const { value: data, finish, where, signal } = await call(
      path,
      { ...init, method: init.method ?? "GET", headers },
      async (res, where, signal) => {
        const bytes = await readBytes(res, maxResponseBytes, where, signal);
        try {
          return JSON.parse(
            new TextDecoder("utf-8", { fatal: true }).decode(bytes) as string,
          ) as unknown;
        } catch (cause) {
          throw permanent(`${where}: the response is not valid JSON`, {
            cause,
          });
        }
      },
    );
    // After the breaker (the host answered), within the deadline, the
    // caller's signal and close().
    let result: StandardSchemaV1.Result<StandardSchemaV1.InferOutput<S>>;
    try {
      result = await raceSignal(
        Promise.resolve().then(() => schema["~standard"].validate(data)),
        signal,
      );
    } catch (cause) {
      if (signal.aborted) throw signal.reason;
      throw permanent(`${where}: the schema's validate threw`, { cause });
    } finally {
      finish();
    }
    if (result.issues === undefined) return result.value;
    throw permanent(`${where}: the response does not match the schema`, {
      cause: schemaError("response body", result.issues, data, {
        root: "(body)",
      }),
    });
  };

  const post = async <Q extends DescMessage, R extends DescMessage = Q>(
    path: string | URL,
    schema: Q,
    message: MessageShape<Q>,
    init: HttpRequestInit & { response?: R } = {},
  ): Promise<MessageShape<R>> => {
    const { response, ...rest } = init;
    const request = protobuf(schema);
    const answer = protobuf(response ?? schema);
    const body = request.encode(message);
    const headers = new Headers(rest.headers);
    headers.set("content-type", request.contentType);
    if (!headers.has("accept")) headers.set("accept", answer.contentType);
    const { value, finish } = await call(
      path,
      { ...rest, method: "POST", headers, body: body as BodyInit },
      async (res, where, signal) => {
        const bytes = await readBytes(res, maxResponseBytes, where, signal);
        try {
          return answer.decode(bytes);
        } catch (cause) {
          throw permanent(
            `${where}: the response is not a valid ${answer.name}`,
            {
              cause,
            },
          );
        }
      },
    );
    finish();
    return value as MessageShape<R>;
  };

  const close = () => {
    if (!closing.signal.aborted) {
      closing.abort(canceled("the http client was closed"));
    }
    return Promise.resolve();
  };

  return Object.assign(client, {
    getJson,
    post,
    close,
    [Symbol.asyncDispose]: close,
  }) as HttpClient;
}

/** The `redirect` modes of fetch. */
const REDIRECT_MODES: ReadonlySet<unknown> = new Set([
  "follow",
  "error",
  "manual",
]);

// The status of each error made from an answer, for the hooks.
const statuses = new WeakMap<object, number>();

/** Breakers kept at most, one per host; the least recently used is forgotten beyond. */
const MAX_BREAKERS = 1_000;

/**
 * Runs `fn`, ignoring its failure, a promise's rejection too: a hook never
 * changes a call.
 */
function quietly(fn: () => unknown): void {
  try {
    const result = fn();
    if (typeof (result as PromiseLike<unknown> | null)?.then === "function") {
      Promise.resolve(result).catch(() => {});
    }
  } catch {
    // a failing hook changes nothing
  }
}

/** Lets the process exit while a deadline is pending (Node/Bun and Deno timers). */
function unref(timer: ReturnType<typeof setTimeout> | undefined): void {
  if (timer === undefined) return;
  if (typeof timer === "object") {
    (timer as { unref?: () => void }).unref?.();
    return;
  }
  const deno = (globalThis as {
    Deno?: { unrefTimer(id: number): void };
  }).Deno;
  deno?.unrefTimer(timer as number);
}
