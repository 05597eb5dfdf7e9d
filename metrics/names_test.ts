import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRegistry } from "./mod.ts";

const registry = () =>
  createRegistry({ namespace: "shop", defaultMetrics: false });

describe("metric names", () => {
  it("joins namespace, subsystem and name", () => {
    const r = registry();
    assert.equal(
      r.counter({ subsystem: "orders", name: "placed_total", help: "h" }).name,
      "shop_orders_placed_total",
    );
    assert.equal(
      r.gauge({ name: "queue_depth", help: "h" }).name,
      "shop_queue_depth",
    );
  });

  it("normalises a service name into the namespace", () => {
    assert.equal(
      createRegistry({ namespace: "Order-Service" }).namespace,
      "order_service",
    );
    assert.equal(createRegistry({ namespace: " cqpm " }).namespace, "cqpm");
    for (const bad of ["", "---", "3d-printer"]) {
      assert.throws(
        () => createRegistry({ namespace: bad }),
        (e: Error) => e instanceof TypeError && /namespace/.test(e.message),
        bad,
      );
    }
    assert.throws(
      () => createRegistry(undefined as unknown as { namespace: string }),
      TypeError,
    );
  });

  for (
    const [name, why] of [
      ["ordersPlaced_total", /snake_case/],
      ["orders__placed_total", /snake_case/],
      ["__orders_total", /snake_case/],
      ["_orders_total", /snake_case/],
      ["orders_total_", /snake_case/],
      ["9orders_total", /snake_case/],
      ["orders:placed_total", /snake_case/],
      ["orders-placed_total", /snake_case/],
      ["orders_placed", /must end in "_total"/],
      ["latency_milliseconds_total", /base unit "seconds", not "milliseconds"/],
      ["payload_kilobytes_total", /base unit "bytes"/],
      ["wait_ms_total", /spell out its unit.*"ms"/],
      ["requests_counter_total", /must not name a metric type/],
    ] as const
  ) {
    it(`rejects the counter name "${name}"`, () => {
      assert.throws(
        () => registry().counter({ name, help: "h" }),
        (e: Error) => e instanceof TypeError && why.test(e.message),
      );
    });
  }

  for (
    const [type, name, why] of [
      ["gauge", "connections_total", /only counters do/],
      ["gauge", "jobs_count", /reserve it/],
      ["histogram", "latency_seconds_bucket", /reserve it/],
      ["histogram", "latency_seconds_sum", /reserve it/],
      ["summary", "latency_seconds_created", /reserve it/],
      ["histogram", "latency_minutes", /base unit "seconds"/],
      ["gauge", "usage_percent", /base unit "ratio"/],
      ["gauge", "memory_mb", /spell out its unit/],
      ["histogram", "latency_histogram_seconds", /metric type/],
    ] as const
  ) {
    it(`rejects the ${type} name "${name}"`, () => {
      assert.throws(
        () => registry()[type]({ name, help: "h" }),
        (e: Error) => e instanceof TypeError && why.test(e.message),
      );
    });
  }

  it("rejects a subsystem that is not snake_case", () => {
    assert.throws(
      () =>
        registry().counter({
          subsystem: "Orders",
          name: "placed_total",
          help: "h",
        }),
      /subsystem "Orders" is not snake_case/,
    );
  });

  it("requires a help text", () => {
    assert.throws(
      () => registry().counter({ name: "placed_total", help: " " }),
      /needs a help text/,
    );
    assert.throws(
      () =>
        registry().counter(
          undefined as unknown as { name: string; help: string },
        ),
      /options \{ name, help \} are required/,
    );
  });
});

describe("label names", () => {
  for (
    const [labels, why] of [
      [["Side"], /snake_case/],
      [["__side"], /snake_case/],
      [["side", "side"], /declared twice/],
      [["le"], /reserved: it holds histogram bucket bounds/],
      [["quantile"], /reserved: it holds summary quantiles/],
      [["job"], /reserved: Prometheus sets it/],
      [["instance"], /reserved: Prometheus sets it/],
    ] as const
  ) {
    it(`rejects ${JSON.stringify(labels)}`, () => {
      assert.throws(
        () =>
          registry().counter({
            name: "placed_total",
            help: "h",
            labelNames: labels,
          }),
        (e: Error) => e instanceof TypeError && why.test(e.message),
      );
    });
  }

  it("rejects a labelNames that is not an array", () => {
    assert.throws(
      () =>
        registry().counter({
          name: "placed_total",
          help: "h",
          labelNames: "side" as unknown as string[],
        }),
      /must be an array/,
    );
  });
});
