import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { GrpcCode } from "@cqi/errors";
import { createRegistry, grpcMetrics, type GrpcMetricsOptions } from "./mod.ts";
import { value } from "./testdata/exposition.ts";

const labels = (code: string) => ({
  service: "shop.v1.Orders",
  method: "GetOrder",
  code,
});

describe("grpcMetrics", () => {
  it("records calls by service, method and status name", async () => {
    const registry = createRegistry({
      namespace: "shop",
      defaultMetrics: false,
    });
    const grpc = grpcMetrics({ registry });
    grpc.record({ ...labels("x"), code: GrpcCode.OK, duration: 2 });
    grpc.record({ ...labels("x"), code: "OK", duration: 4 });
    grpc.record({ ...labels("x"), code: GrpcCode.NOT_FOUND, duration: 1 });
    grpc.record({ ...labels("x"), code: 99, duration: 1 });
    grpc.record({ ...labels("x"), code: "TEAPOT", duration: 1 });
    const text = await registry.metrics();
    assert.equal(value(text, "shop_grpc_call_count_total", labels("OK")), 2);
    assert.equal(
      value(text, "shop_grpc_call_duration_seconds_count", labels("OK")),
      2,
    );
    assert.ok(
      Math.abs(
        value(text, "shop_grpc_call_duration_seconds_sum", labels("OK"))! -
          0.006,
      ) <
        1e-12,
    );
    assert.equal(
      value(text, "shop_grpc_call_count_total", labels("NOT_FOUND")),
      1,
    );
    assert.equal(
      value(text, "shop_grpc_call_count_total", labels("UNKNOWN")),
      2,
    );
  });

  it("times a call from start to its final code", async () => {
    const registry = createRegistry({
      namespace: "shop",
      defaultMetrics: false,
    });
    const done = grpcMetrics({ registry, buckets: [0.001, 1] }).start(
      "shop.v1.Orders",
      "GetOrder",
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    const ms = done(GrpcCode.UNAVAILABLE);
    assert.ok(ms >= 4, String(ms));
    const text = await registry.metrics();
    assert.equal(
      value(text, "shop_grpc_call_duration_seconds_bucket", {
        ...labels("UNAVAILABLE"),
        le: "0.001",
      }),
      0,
    );
    assert.equal(
      value(text, "shop_grpc_call_count_total", labels("UNAVAILABLE")),
      1,
    );
  });

  it("needs a registry", () => {
    assert.throws(
      () => grpcMetrics({} as GrpcMetricsOptions),
      /grpcMetrics: registry is required/,
    );
  });
});

describe("grpcMetrics cardinality", () => {
  it("folds service/method pairs beyond maxMethods into OTHER", async () => {
    const registry = createRegistry({
      namespace: "svc",
      defaultMetrics: false,
    });
    const grpc = grpcMetrics({ registry, maxMethods: 2 });
    for (let i = 0; i < 50; i++) {
      grpc.record({
        service: "orders.v1.Orders",
        method: `Made${i}`,
        code: 12,
        duration: 1,
      });
    }
    const text = await registry.metrics();
    const series = text.split("\n").filter((l) =>
      l.startsWith("svc_grpc_call_count_total{")
    );
    assert.equal(series.length, 3);
    assert.match(
      text,
      /svc_grpc_call_count_total\{service="OTHER",method="OTHER",code="UNIMPLEMENTED"\} 48/,
    );
    assert.throws(() => grpcMetrics({ registry, maxMethods: 0 }), /maxMethods/);
  });
});
