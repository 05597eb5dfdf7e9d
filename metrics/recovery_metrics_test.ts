import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyMiddleware, router, serve } from "@cqi/http";
import { conflict, readJson, recovery, wrap } from "@cqi/errors";
import { hangUpMidBody } from "../tests/_raw_client.ts";
import {
  createRegistry,
  httpMetrics,
  recoveryMetrics,
  type RecoveryMetricsOptions,
} from "./mod.ts";
import { parse, value } from "./testdata/exposition.ts";

describe("recoveryMetrics", () => {
  it("counts recovered errors by kind", async () => {
    const registry = createRegistry({
      namespace: "shop",
      defaultMetrics: false,
    });
    const errors = [
      conflict("order already filled"),
      wrap(conflict("duplicate"), "placing order"),
      new Error("bug"),
      "a string",
    ];
    let next = 0;
    const handler = applyMiddleware(
      () => Promise.reject(errors[next++]),
      recovery({ onError: recoveryMetrics({ registry }) }),
    );
    const statuses = [];
    for (let i = 0; i < errors.length; i++) {
      const res = await handler(new Request("http://localhost/orders"));
      statuses.push(res.status);
      await res.body?.cancel();
    }
    assert.deepEqual(statuses, [409, 409, 500, 500]);
    const text = await registry.metrics();
    assert.equal(
      value(text, "shop_http_recovered_errors_total", {
        error_type: "conflict",
      }),
      2,
    );
    assert.equal(
      value(text, "shop_http_recovered_errors_total", {
        error_type: "permanent",
      }),
      2,
    );
  });

  it("labels httpMetrics' counter even when a middleware in between replaces the request", async () => {
    const registry = createRegistry({
      namespace: "shop",
      defaultMetrics: false,
    });
    const handler = applyMiddleware(
      () => Promise.reject(conflict("order already filled")),
      httpMetrics({ registry }),
      (req, next) => next(new Request(req, { headers: { "x-extra": "1" } })),
      recovery({ onError: recoveryMetrics({ registry }) }),
    );
    const res = await handler(new Request("http://localhost/orders"));
    assert.equal(res.status, 409);
    await res.body?.cancel();
    const text = await registry.metrics();
    assert.equal(
      value(text, "shop_http_request_count_total", {
        method: "GET",
        path: "unmatched",
        status_code: "409",
        error_type: "conflict",
      }),
      1,
    );
  });

  it("counts a client that hangs up mid-body as a 499 canceled, never as a 5xx", async () => {
    const registry = createRegistry({
      namespace: "shop",
      defaultMetrics: false,
    });
    let started!: () => void;
    const reading = new Promise<void>((resolve) => started = resolve);
    let answered!: () => void;
    const recorded = new Promise<void>((resolve) => answered = resolve);
    const handler = applyMiddleware(
      router({
        "POST /orders": async (req) => {
          started();
          return Response.json(await readJson(req));
        },
      }),
      // outside httpMetrics: it has recorded the request once this goes on
      (req, next) => next(req).finally(answered),
      httpMetrics({ registry }),
      recovery({ onError: recoveryMetrics({ registry }) }),
    );
    await using server = serve(handler, {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
    });
    await hangUpMidBody(server.addr.port, reading);
    await recorded;
    const text = await registry.metrics();
    const statuses = parse(text)
      .filter((s) => s.name === "shop_http_request_count_total")
      .map((s) => [s.labels.status_code, s.labels.error_type, s.value]);
    assert.deepEqual(statuses, [["499", "canceled", 1]]);
    assert.equal(
      value(text, "shop_http_recovered_errors_total", {
        error_type: "canceled",
      }),
      1,
    );
    assert.equal(
      parse(text).some((s) => /^5/.test(s.labels.status_code ?? "")),
      false,
      "no series of any metric has a 5xx status",
    );
  });

  it("registers once per registry", () => {
    const registry = createRegistry({
      namespace: "shop",
      defaultMetrics: false,
    });
    recoveryMetrics({ registry });
    assert.doesNotThrow(() => recoveryMetrics({ registry }));
    assert.throws(
      () => recoveryMetrics({} as RecoveryMetricsOptions),
      /recoveryMetrics: registry is required/,
    );
  });
});
