// The canonical stack enters the async context once per request: the
// request scope, the server span and everything the other middleware binds
// share that one switch (an AsyncLocalStorage.run, which costs a request
// several microseconds over HTTP on Deno; BENCHMARKS.md).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { context, trace } from "@opentelemetry/api";
import { applyMiddleware, getRoute, router } from "@cqi/http";
import { recovery } from "@cqi/errors";
import { accessLog, createLogger, logger, memorySink } from "@cqi/logging";
import { createRegistry, httpMetrics } from "@cqi/metrics";
import { createTracing, httpTracing } from "@cqi/tracing";
import { apiKey, getAuthContext } from "@cqi/auth";

const KEY = "context-switch-key-0123456789";

async function switchesPerRequest(
  sampler: "never" | "always" | undefined,
): Promise<{ switches: number; seen: Record<string, unknown> }> {
  // A batching exporter, as in production: the memory exporter's simple
  // processor would switch the context once more per span, to export it.
  const exported: unknown[] = [];
  await using _tracing = sampler === undefined ? undefined : createTracing({
    service: { name: "ctx" },
    sampler,
    exporter: {
      export: (spans, done) => {
        exported.push(...spans);
        done({ code: 0 });
      },
      shutdown: () => Promise.resolve(),
    },
  });
  const lines = memorySink();
  const seen: Record<string, unknown> = {};
  const handler = applyMiddleware(
    router({
      "GET /items/:id": async () => {
        await Promise.resolve();
        seen.route = getRoute();
        seen.keyId = getAuthContext().keyId;
        logger().info("inside");
        seen.span = trace.getActiveSpan() !== undefined;
        return Response.json({ ok: true });
      },
    }),
    httpTracing(),
    accessLog({
      logger: createLogger({ service: { name: "ctx" }, output: lines }),
    }),
    httpMetrics({ registry: createRegistry({ namespace: "ctx" }) }),
    recovery(),
    apiKey({ keys: [{ id: "k", key: KEY }] }),
  );
  const request = () =>
    handler(
      new Request("http://localhost/items/7", {
        headers: {
          authorization: `Bearer ${KEY}`,
          traceparent:
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        },
      }),
    );
  await request(); // warm: lazy one-time setup does not count
  const original = context.with;
  let switches = 0;
  context.with = ((...args: Parameters<typeof original>) => {
    switches++;
    return original.apply(context, args);
  }) as typeof original;
  try {
    const res = await request();
    assert.equal(res.status, 200);
  } finally {
    context.with = original;
  }
  const [inside, access] = lines.records.slice(-2);
  seen.sameRequestId = inside.request_id === access.request_id;
  seen.traceId = inside.trace_id;
  return { switches, seen };
}

describe("the canonical stack", () => {
  for (const sampler of ["never", "always", undefined] as const) {
    it(`switches the async context once per request (tracing: ${sampler ?? "not initialised"})`, async () => {
      const { switches, seen } = await switchesPerRequest(sampler);
      assert.equal(switches, 1);
      assert.deepEqual(seen, {
        route: "/items/:id",
        keyId: "k",
        span: true,
        sameRequestId: true,
        traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      });
    });
  }
});
