import type {
  CircuitBreakerOptions,
  Clock,
  RateLimiter,
  RateLimiterOptions,
  RetryBudget,
} from "@cqi/retry";
import type { HttpClientHooks } from "./hooks.ts";

/**
 * How `createHttpClient` retries. Only answers 429, 502, 503 and 504 and
 * network errors are retried, only for idempotent methods (and requests
 * marked `idempotent`), and only when the body can be sent again.
 *
 * @example Usage
 * ```ts
 * import type { HttpRetryOptions } from "@cqi/httpclient";
 *
 * const retry: HttpRetryOptions = { maxAttempts: 5, maxRetryAfter: 10_000 };
 * ```
 */
export interface HttpRetryOptions {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** Milliseconds before the first retry, doubling after. Default 100. */
  initialDelay?: number;
  /** Cap on the backoff, in milliseconds. Default 2,000. */
  maxDelay?: number;
  /** Spread of each wait, as for `@cqi/retry`'s `exponential`. Default 0.25. */
  jitter?: number | "full";
  /**
   * Cap on a `Retry-After` wait (seconds or an HTTP-date), in milliseconds.
   * Default 30,000.
   */
  maxRetryAfter?: number;
  /**
   * The methods retried without asking. Default the idempotent ones: `GET`,
   * `HEAD`, `OPTIONS`, `PUT`, `DELETE`.
   */
  methods?: readonly string[];
  /** A retry budget shared with other callers of the same dependency. */
  budget?: RetryBudget;
  /** Random numbers in `[0, 1)` for jitter (tests). Default `Math.random`. */
  random?: () => number;
}

/**
 * Options for `createHttpClient`. Durations are milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { HttpClientOptions } from "@cqi/httpclient";
 *
 * const options: HttpClientOptions = {
 *   baseUrl: "https://prices.internal/v1",
 *   timeout: 5_000,
 *   retry: { maxAttempts: 4 },
 *   breaker: { failureThreshold: 10, openFor: 15_000 },
 *   rateLimit: { rate: 100, burst: 20 },
 *   headers: { "user-agent": "cqpm/1.0" },
 * };
 * ```
 */
export interface HttpClientOptions {
  /**
   * Requests for a path (`orders/1` or `/orders/1`) go under this URL's
   * path; absolute URLs must have its origin. Credentials in it become a
   * Basic `authorization` header. Default: none (absolute URLs only).
   */
  baseUrl?: string | URL;
  /**
   * Deadline of a whole call, in milliseconds: retries, waits, the headers
   * and the body read: at most 2^31 - 1 (a timer's limit, ~24.8 days), or
   * `Infinity` for none. Default 30,000.
   */
  timeout?: number;
  /** Sent with every request, under the request's own headers. */
  headers?: HeadersInit;
  /** Retry settings, or `false` for a single attempt. Default: see {@linkcode HttpRetryOptions}. */
  retry?: false | HttpRetryOptions;
  /**
   * A circuit breaker per host (`host:port`), as `@cqi/retry`'s
   * `createCircuitBreaker`, or `false` for none. Default: 5 failures in a
   * row open it for 30 s.
   */
  breaker?:
    | false
    | Omit<CircuitBreakerOptions, "name" | "clock" | "onStateChange">;
  /**
   * A token bucket for every attempt the client makes (all hosts): its
   * options, or a limiter shared with other clients. Default: none.
   */
  rateLimit?: Omit<RateLimiterOptions, "clock"> | RateLimiter;
  /** Largest body `getJson` and `post` read, in bytes. Default 8 MiB. */
  maxResponseBytes?: number;
  /** Observation points; `@cqi/service`'s `httpClientHooks()` builds them. */
  hooks?: HttpClientHooks;
  /** The clock of backoff, breakers and the rate limit (tests). Default the system clock. */
  clock?: Clock;
}

/** The idempotent methods (RFC 9110 §9.2.2) retried by default. */
export const IDEMPOTENT_METHODS: readonly string[] = Object.freeze([
  "GET",
  "HEAD",
  "OPTIONS",
  "PUT",
  "DELETE",
]);

/** Checks a duration option: a number >= 0 (`Infinity` if allowed). */
export function millis(
  name: string,
  value: number | undefined,
  fallback: number,
  infinite = false,
): number {
  if (value === undefined) return fallback;
  if (!(value >= 0 && (infinite || value < Infinity))) {
    throw new RangeError(
      `createHttpClient: ${name} must be milliseconds >= 0, got ${value}`,
    );
  }
  return value;
}

/** The longest delay a timer holds (a signed 32-bit int); longer fire at once. */
export const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * Checks a `timeout` (of the client, or of a call for `who` "httpclient"):
 * milliseconds in `[0, 2^31 - 1]`, or `Infinity` for none.
 */
export function deadline(
  value: number | undefined,
  fallback: number,
  who = "createHttpClient",
): number {
  if (value === undefined) return fallback;
  if (!(value >= 0 && (value <= MAX_TIMEOUT || value === Infinity))) {
    throw new RangeError(
      `${who}: timeout must be milliseconds in [0, ${MAX_TIMEOUT}] or Infinity, got ${value}`,
    );
  }
  return value;
}
