import {
  type Context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { getRoute, type Next, withHeaders, withRequestScope } from "@cqi/http";
import { getter } from "./carrier.ts";
import { propagator } from "./propagation.ts";
import { failed, recordError } from "./span.ts";
import { mode, tracer } from "./state.ts";
import { formatTraceparent } from "./w3c.ts";
import { METHODS } from "./methods.ts";

/**
 * Options for {@linkcode httpTracing}.
 *
 * @example Usage
 * ```ts
 * import type { HttpTracingOptions } from "@cqi/tracing";
 *
 * const options: HttpTracingOptions = { returnTraceparent: true };
 * ```
 */
export interface HttpTracingOptions {
  /**
   * Answer with the server span's `traceparent` as a response header, so a
   * caller (or a support ticket) can find the trace. Default `false`.
   */
  returnTraceparent?: boolean;
}

/**
 * Middleware that traces each request with one server span named
 * `{METHOD} {route}` (the route pattern from `@cqi/http`'s router or Hono
 * adapter; just `{METHOD}` without one), carrying the stable HTTP semantic
 * convention attributes. An incoming `traceparent` becomes the parent; a
 * 5xx answer or a thrown error sets the status to error, and a thrown error
 * is recorded as an exception and rethrown. Put it outermost.
 *
 * Without `createTracing` it records nothing and costs almost nothing, but
 * still continues an incoming trace context, so outgoing calls and log
 * lines keep the caller's trace id. Under Deno's built-in OpenTelemetry
 * (`OTEL_DENO=true`) it does not start a second span: it names and
 * completes the one `Deno.serve` started.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware, router, serve } from "@cqi/http";
 * import { httpTracing, createTracing } from "@cqi/tracing";
 *
 * await using tracing = createTracing({
 *   service: { name: "cqpm" },
 *   exporter: "memory",
 *   sampler: "always",
 * });
 * const app = router({ "GET /orders/:id": () => Response.json({ ok: true }) });
 * await using server = serve(applyMiddleware(app, httpTracing()), {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * await (await fetch(`http://127.0.0.1:${server.addr.port}/orders/7`)).text();
 * console.log(tracing.spans()[0].name); // "GET /orders/:id"
 * ```
 *
 * @param options Whether to return the `traceparent` header.
 * @returns The middleware (a `Middleware` of `@cqi/http`).
 */
export function httpTracing(
  options: HttpTracingOptions = {},
): (
  req: Request,
  next: (req: Request) => Promise<Response>,
) => Promise<Response> {
  const returnTraceparent = options.returnTraceparent === true;
  return (req, next) => {
    switch (mode()) {
      case "off":
        return passThrough(req, next);
      case "deno": {
        const span = trace.getActiveSpan();
        if (span !== undefined) {
          return joined(span, req, next, returnTraceparent);
        }
        return traced(tracer()!, req, next, returnTraceparent);
      }
      default:
        return traced(tracer()!, req, next, returnTraceparent);
    }
  };
}

/**
 * Returns a hook for `recovery({ onError })` from `@cqi/errors`: it records
 * an error that `recovery` turned into a 5xx answer on the active (server)
 * span, which would otherwise see only the status. 4xx answers are not
 * span errors.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware } from "@cqi/http";
 * import { recovery } from "@cqi/errors";
 * import { httpTracing, traceErrors } from "@cqi/tracing";
 *
 * const handler = applyMiddleware(
 *   () => {
 *     throw new Error("boom");
 *   },
 *   httpTracing(),
 *   recovery({ onError: traceErrors() }),
 * );
 * console.log((await handler(new Request("http://localhost/"))).status); // 500
 * ```
 *
 * @returns The hook.
 */
export function traceErrors(): (
  recovered: { error: unknown; status: number },
) => void {
  return ({ error, status }) => {
    const span = trace.getActiveSpan();
    if (span !== undefined && status >= 500) recordError(span, error);
  };
}

/** No tracer: continue the caller's context for what the handler calls. */
function passThrough(req: Request, next: Next): Promise<Response> {
  const headers = req.headers;
  if (!headers.has("traceparent") && !headers.has("baggage")) {
    return next(req);
  }
  return withRequestScope(
    () => next(req),
    (ctx) => propagator.extract(ctx, headers, getter),
  );
}

/**
 * Starts the server span and runs the rest of the chain inside it. The span
 * and the request scope enter the async context together, in one switch.
 */
function traced(
  tracer: Tracer,
  req: Request,
  next: Next,
  returnTraceparent: boolean,
): Promise<Response> {
  const method = METHODS.has(req.method) ? req.method : "_OTHER";
  let span!: Span;
  const bind = (ctx: Context) => {
    const parent = propagator.extract(ctx, req.headers, getter);
    span = tracer.startSpan(method === "_OTHER" ? "HTTP" : method, {
      kind: SpanKind.SERVER,
    }, parent);
    return trace.setSpan(parent, span);
  };
  return withRequestScope(() => {
    if (span.isRecording()) requestAttributes(span, req, method);
    return complete(span, req, next, { method, end: true, returnTraceparent });
  }, bind);
}

/** Deno's server span is active: name and complete it, do not end it. */
function joined(
  span: Span,
  req: Request,
  next: Next,
  returnTraceparent: boolean,
): Promise<Response> {
  const method = METHODS.has(req.method) ? req.method : "_OTHER";
  if (span.isRecording()) {
    const ua = req.headers.get("user-agent");
    if (ua !== null) span.setAttribute("user_agent.original", ua);
    serverAddress(span, req);
  }
  return withRequestScope(() =>
    complete(span, req, next, { method, end: false, returnTraceparent })
  );
}

/** Runs the chain in the span's scope, then names, completes and ends it. */
function complete(
  span: Span,
  req: Request,
  next: Next,
  how: { method: string; end: boolean; returnTraceparent: boolean },
): Promise<Response> {
  if (span.isRecording()) return recorded(span, req, next, how);
  // Sampled out: the span only carries ids for propagation, so there is
  // nothing to name or end.
  const res = next(req);
  return how.returnTraceparent
    ? res.then((r) => withTraceparent(r, span))
    : res;
}

async function recorded(
  span: Span,
  req: Request,
  next: Next,
  how: { method: string; end: boolean; returnTraceparent: boolean },
): Promise<Response> {
  let res: Response;
  try {
    res = await next(req);
  } catch (error) {
    name(span, how.method, getRoute());
    recordError(span, error);
    if (how.end) span.end();
    throw error;
  }
  name(span, how.method, getRoute());
  span.setAttribute("http.response.status_code", res.status);
  if (res.status >= 500 && !failed.has(span)) {
    span.setAttribute("error.type", String(res.status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  if (how.end) span.end();
  return how.returnTraceparent ? withTraceparent(res, span) : res;
}

function withTraceparent(res: Response, span: Span): Response {
  return withHeaders(res, {
    traceparent: formatTraceparent(span.spanContext()),
  });
}

function name(span: Span, method: string, route: string | undefined): void {
  if (route === undefined) return;
  span.updateName(`${method === "_OTHER" ? "HTTP" : method} ${route}`);
  span.setAttribute("http.route", route);
}

function requestAttributes(span: Span, req: Request, method: string): void {
  span.setAttribute("http.request.method", method);
  if (method === "_OTHER") {
    span.setAttribute("http.request.method_original", req.method);
  }
  // Parsed without throwing: Bun gives a relative URL for a bad Host header.
  const url = URL.parse(req.url);
  if (url !== null) {
    span.setAttribute("url.path", url.pathname);
    span.setAttribute("url.scheme", url.protocol.slice(0, -1));
    serverAddress(span, req, url);
  }
  const ua = req.headers.get("user-agent");
  if (ua !== null) span.setAttribute("user_agent.original", ua);
}

function serverAddress(
  span: Span,
  req: Request,
  url: URL | null = URL.parse(req.url),
) {
  if (url === null) return;
  span.setAttribute("server.address", url.hostname.replace(/^\[|\]$/g, ""));
  const port = url.port === ""
    ? url.protocol === "https:" ? 443 : 80
    : Number(url.port);
  span.setAttribute("server.port", port);
}
