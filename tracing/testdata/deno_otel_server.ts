// Run with OTEL_DENO=true: a CQI service under Deno's built-in OpenTelemetry.
// Prints JSON lines: its mode and port, then what a logger would print in
// the handler (the active span's ids). Argument: a downstream URL to call.
import { trace } from "@opentelemetry/api";
import { applyMiddleware, router, serve } from "@cqi/http";
import { createTracing, httpTracing, startSpan, tracedFetch } from "../mod.ts";

const downstream = Deno.args[0];
const tracing = createTracing({
  service: { name: "deno-otel-test" },
  exporter: "memory",
  sampler: "always",
});
const app = router({
  "GET /hello/:name": async (_req, { name }) => {
    const ids = trace.getActiveSpan()?.spanContext();
    console.log(
      JSON.stringify({ trace_id: ids?.traceId, span_id: ids?.spanId }),
    );
    await startSpan("greet", async () => {
      await (await tracedFetch(downstream)).text();
    });
    return new Response(`hello ${name}`);
  },
});
const server = serve(
  applyMiddleware(app, httpTracing({ returnTraceparent: true })),
  { port: 0, hostname: "127.0.0.1" },
);
console.log(JSON.stringify({ mode: tracing.mode, port: server.addr.port }));
await server.finished;
await tracing.close();
