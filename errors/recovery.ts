import type { Middleware } from "@cqi/http";
import { errorResponse } from "./response.ts";

/**
 * What {@linkcode recovery} tells its `onError` hook about a failure.
 *
 * @example Usage
 * ```ts
 * import type { RecoveredError } from "@cqi/errors";
 *
 * const log = ({ error, request, status }: RecoveredError) =>
 *   console.error(request.method, request.url, status, error);
 * ```
 */
export interface RecoveredError {
  /** What was thrown, with its whole cause chain. */
  error: unknown;
  /** The request that failed. */
  request: Request;
  /** The status the client was answered with. */
  status: number;
}

/**
 * Options for {@linkcode recovery}.
 *
 * @example Usage
 * ```ts
 * import type { RecoveryOptions } from "@cqi/errors";
 *
 * const options: RecoveryOptions = {
 *   onError: ({ error }) => console.error(error),
 * };
 * ```
 */
export interface RecoveryOptions {
  /**
   * Receives every recovered error (logging, metrics and tracing attach
   * here): one hook or several, called in order. A hook that throws is
   * ignored (the others still run); the client still gets the mapped
   * response.
   */
  onError?:
    | ((recovered: RecoveredError) => void)
    | ReadonlyArray<(recovered: RecoveredError) => void>;
}

/**
 * Middleware that turns anything thrown or rejected further in — `Error`s,
 * CQI errors, strings, `undefined` — into the mapped error response (see
 * `errorResponse`), so a client sees `{"error","code"}` and the right
 * status, never a stack or a cause.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware } from "@cqi/http";
 * import { notFound, recovery } from "@cqi/errors";
 *
 * const handler = applyMiddleware(
 *   () => {
 *     throw notFound("order", 7);
 *   },
 *   recovery({ onError: ({ error }) => console.error(error) }),
 * );
 * const res = await handler(new Request("http://localhost/orders/7"));
 * console.log(res.status); // 404
 * ```
 *
 * @param options The `onError` hook.
 * @returns The middleware.
 */
export function recovery(options: RecoveryOptions = {}): Middleware {
  const hooks = options.onError === undefined
    ? []
    : typeof options.onError === "function"
    ? [options.onError]
    : [...options.onError];
  for (const hook of hooks) {
    if (typeof hook !== "function") {
      throw new TypeError(
        "recovery: onError must be a function or an array of functions",
      );
    }
  }
  const recover = (error: unknown, req: Request): Response => {
    const res = errorResponse(error);
    for (const hook of hooks) {
      try {
        hook({ error, request: req, status: res.status });
      } catch {
        // a failing hook must not turn a mapped error into a dropped request
      }
    }
    return res;
  };
  // `.catch` rather than async/await: one promise fewer on the hot path.
  // `next` never throws synchronously (compose turns throws into rejections).
  return (req, next) => next(req).catch((error) => recover(error, req));
}
