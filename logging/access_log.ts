import { requestPath, withHeaders, withRequestScope } from "@cqi/http";
import {
  capField,
  capRoute,
  MAX_PATH_LENGTH,
  MAX_VALUE_LENGTH,
} from "./cap.ts";
import { type Fields, type Logger, requestChild } from "./logger.ts";
import { bindLogger, defaultLogger } from "./scope.ts";
import type { Clock } from "@cqi/retry";

// Durations want sub-millisecond time, which the system clock does not give.
const monotonic: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Options for {@linkcode accessLog}.
 *
 * @example Usage
 * ```ts
 * import type { AccessLogOptions } from "@cqi/logging";
 *
 * const options: AccessLogOptions = { logStart: true };
 * ```
 */
export interface AccessLogOptions {
  /** The logger to write with (and to derive request loggers from). Default: the default logger. */
  logger?: Logger;
  /** Also write a `debug` line when a request starts. Default `false`. */
  logStart?: boolean;
  /** The request-id header, read and set on the response. Default `x-request-id`. */
  requestIdHeader?: string;
  /**
   * The client's address, for `remote_addr`. A plain `Request` does not
   * carry it; supply it when something does (a trusted proxy's
   * `x-forwarded-for`, say). Default: none, and no `remote_addr` field.
   */
  remoteAddr?: (req: Request) => string | undefined;
  /** The clock for `duration_ms`. Default: `performance.now` (sub-millisecond). */
  clock?: Clock;
}

// The client went away before its answer (nginx's "client closed request"):
// no fault of the service, and any client can cause it, so never above info.
const CLIENT_CLOSED = 499;

// A request id taken from a client: 1–128 characters of [A-Za-z0-9._-].
const VALID_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The access log: one line per request, written when its response is
 * ready. Fields: `method`, `route` (the pattern where a router recorded one,
 * else the
 * path), `status`, `duration_ms`, `request_bytes` and `response_bytes` (from
 * `content-length`, when known), `user_agent`, `remote_addr` (see the
 * option), `request_id`, and every field other middleware added with
 * `addLogFields`. Its level is `info` for 1xx–3xx, `warn` for 4xx and `error`
 * for 5xx, except 499 (the client went away mid-request, a `canceled` error
 * of `@cqi/errors`): any client can cause that, so it is `info`. What the
 * client chose is bounded: a path longer than 2048 characters, or a method,
 * user agent or `remote_addr` longer than 512, is cut to that length, ending
 * in `…`, and the line gets `route_length` (or `method_length`, ...) with the
 * original length. The `x-request-id` header is reused when valid (1–128
 * characters of `A-Za-z0-9._-`), else generated, and set on the response.
 * Inside, the request's logger is {@linkcode logger}. An error that escapes is logged
 * as a 500 and rethrown: put `recovery` inside this middleware.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware, serve } from "@cqi/http";
 * import { recovery } from "@cqi/errors";
 * import { accessLog, createLogger, logRecovered } from "@cqi/logging";
 *
 * const log = createLogger({ service: { name: "orders" } });
 * const handler = applyMiddleware(
 *   () => Response.json({ ok: true }),
 *   accessLog({ logger: log }),
 *   recovery({ onError: logRecovered() }),
 * );
 * await using server = serve(handler, {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * console.log(res.headers.get("x-request-id") !== null); // true
 * await res.body?.cancel();
 * await log.flush();
 * ```
 *
 * @param options The logger, start lines, header and clock.
 * @returns The middleware (a `Middleware` of `@cqi/http`).
 * @throws {TypeError} When an option has the wrong type.
 */
export function accessLog(
  options: AccessLogOptions = {},
): (
  req: Request,
  next: (req: Request) => Promise<Response>,
) => Promise<Response> {
  const {
    logger: base,
    logStart = false,
    requestIdHeader = "x-request-id",
    remoteAddr,
    clock = monotonic,
  } = options;
  if (typeof requestIdHeader !== "string" || requestIdHeader === "") {
    throw new TypeError("accessLog: requestIdHeader must be a header name");
  }
  if (typeof clock?.now !== "function") {
    throw new TypeError("accessLog: clock must have a now() method");
  }
  if (remoteAddr !== undefined && typeof remoteAddr !== "function") {
    throw new TypeError("accessLog: remoteAddr must be a function");
  }
  // The access line's logger: `base` (or the default logger), adding the
  // request's extra log fields; remade only when the default logger changes.
  let lineBase: Logger | undefined;
  let lineLogger!: Logger;
  return (req, next) => {
    const start = clock.now();
    const incoming = req.headers.get(requestIdHeader);
    const id = incoming !== null && VALID_ID.test(incoming)
      ? incoming
      : crypto.randomUUID();
    const root = base ?? defaultLogger();
    if (root !== lineBase) {
      lineBase = root;
      lineLogger = requestChild(root, {});
    }
    const log = lineLogger;
    // Read now: on Bun a request's URL is gone once its response was sent.
    const request: Fields = { request_id: id };
    capField(request, "method", req.method, MAX_VALUE_LENGTH);
    const url = req.url;
    const requestBytes = contentLength(req.headers);
    const userAgent = req.headers.get("user-agent");
    const addr = remoteAddr?.(req);
    return withRequestScope(async () => {
      // The handler's logger() is made on first use, with the request id.
      bindLogger(requestLogger.bind(undefined, root, id));
      if (logStart) {
        const fields: Fields = { ...request };
        capField(fields, "path", requestPath(url), MAX_PATH_LENGTH);
        log.debug("request started", fields);
      }
      const line = (status: number): Fields => {
        const fields: Fields = { ...request };
        capRoute(fields, url);
        fields.status = status;
        fields.duration_ms = Math.round((clock.now() - start) * 1000) / 1000;
        if (requestBytes !== undefined) fields.request_bytes = requestBytes;
        if (userAgent !== null) {
          capField(fields, "user_agent", userAgent, MAX_VALUE_LENGTH);
        }
        if (typeof addr === "string") {
          capField(fields, "remote_addr", addr, MAX_VALUE_LENGTH);
        } else if (addr !== undefined) fields.remote_addr = addr;
        return fields;
      };
      let res: Response;
      try {
        res = await next(req);
      } catch (error) {
        log.error("request failed", { ...line(500), error });
        throw error;
      }
      const fields = line(res.status);
      const responseBytes = contentLength(res.headers);
      if (responseBytes !== undefined) fields.response_bytes = responseBytes;
      if (res.status >= 500) log.error("request completed", fields);
      else if (res.status >= 400 && res.status !== CLIENT_CLOSED) {
        log.warn("request completed", fields);
      } else log.info("request completed", fields);
      return withHeaders(res, [[requestIdHeader, id]]);
    });
  };
}

function contentLength(headers: Headers): number | undefined {
  const value = headers.get("content-length");
  if (value === null || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

// A request's logger, made on first use. Bound to its two values rather than
// a closure: a closure would keep the request's whole scope (the Request
// itself) reachable from the async context, which on Deno keeps it alive
// through every young-generation GC until a full one.
function requestLogger(root: Logger, id: string): Logger {
  return requestChild(root, { request_id: id });
}
