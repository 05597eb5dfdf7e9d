import {
  type Context,
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { setter } from "./carrier.ts";
import { propagator } from "./propagation.ts";
import { recordError } from "./span.ts";
import { mode, tracer } from "./state.ts";
import { METHODS } from "./methods.ts";

/**
 * `fetch` with a client span, whose trace continues in the called service.
 * Each call gets its own span (a child of the active one, named `{METHOD}`,
 * with `http.request.method`,
 * `server.address`, `server.port`, `url.full` without credentials and
 * `http.response.status_code`), and the request carries that span's
 * `traceparent` (plus `tracestate` and `baggage`), so every outgoing call
 * has its own parent id. 4xx and 5xx answers and network errors set the
 * span's status to error; errors are rethrown unchanged.
 *
 * Without `createTracing` no span is started, but an active trace context
 * (continued by `httpTracing`) is still forwarded. Under Deno's built-in
 * OpenTelemetry it is plain `fetch`: Deno starts the client span and
 * injects the headers itself.
 *
 * @example Usage
 * ```ts
 * import { serve } from "@cqi/http";
 * import { tracedFetch } from "@cqi/tracing";
 *
 * await using server = serve(
 *   (req) => new Response(req.headers.get("traceparent") ?? "none"),
 *   { port: 0, hostname: "127.0.0.1", handleSignals: false },
 * );
 * const res = await tracedFetch(`http://127.0.0.1:${server.addr.port}/`);
 * console.log(await res.text()); // "none": no active trace, nothing to forward
 * ```
 *
 * @param input The URL or request, as for `fetch`.
 * @param init Request options, as for `fetch`.
 * @returns The response.
 */
export async function tracedFetch(
  input: string | URL | Request,
  init?: RequestInit,
): Promise<Response> {
  const current = mode();
  if (current === "deno") return await globalThis.fetch(input, init);
  const active = context.active();
  if (current === "off") {
    if (
      trace.getSpanContext(active) === undefined &&
      propagation.getBaggage(active) === undefined
    ) {
      return await globalThis.fetch(input, init);
    }
    return await globalThis.fetch(input, injected(input, init, active));
  }
  const request = input instanceof Request ? input : undefined;
  const method = (init?.method ?? request?.method ?? "GET").toUpperCase();
  const known = METHODS.has(method);
  const url = new URL(request?.url ?? String(input));
  const span = tracer()!.startSpan(known ? method : "HTTP", {
    kind: SpanKind.CLIENT,
  }, active);
  if (span.isRecording()) {
    span.setAttribute("http.request.method", known ? method : "_OTHER");
    if (!known) span.setAttribute("http.request.method_original", method);
    span.setAttribute("server.address", url.hostname.replace(/^\[|\]$/g, ""));
    span.setAttribute(
      "server.port",
      url.port === "" ? url.protocol === "https:" ? 443 : 80 : Number(url.port),
    );
    url.username = "";
    url.password = "";
    span.setAttribute("url.full", url.href);
  }
  const ctx = trace.setSpan(active, span);
  try {
    const res = await context.with(
      ctx,
      () => globalThis.fetch(input, injected(input, init, ctx)),
    );
    if (span.isRecording()) {
      span.setAttribute("http.response.status_code", res.status);
      if (res.status >= 400) {
        span.setAttribute("error.type", String(res.status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    return res;
  } catch (error) {
    recordError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

function injected(
  input: string | URL | Request,
  init: RequestInit | undefined,
  ctx: Context,
): RequestInit {
  const headers = new Headers(
    init?.headers ?? (input instanceof Request ? input.headers : undefined),
  );
  propagator.inject(ctx, headers, setter);
  return { ...init, headers };
}
