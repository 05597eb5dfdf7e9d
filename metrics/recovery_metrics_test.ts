import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyMiddleware } from "@cqi/http";
import { conflict, recovery, wrap } from "@cqi/errors";
import {
  createRegistry,
  httpMetrics,
  recoveryMetrics,
  type RecoveryMetricsOptions,
} from "./mod.ts";
import { value } from "./testdata/exposition.ts";

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
