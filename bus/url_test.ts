import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseTarget } from "./url.ts";

describe("parseTarget", () => {
  it("reads memory and kafka URLs and config sections", () => {
    assert.deepEqual(parseTarget(undefined), {
      backend: "memory",
      name: "",
      group: undefined,
    });
    assert.deepEqual(parseTarget("memory://"), {
      backend: "memory",
      name: "",
      group: undefined,
    });
    assert.deepEqual(parseTarget("memory://tests-1"), {
      backend: "memory",
      name: "tests-1",
      group: undefined,
    });
    assert.deepEqual(parseTarget("kafka://k1:9093,k2,[::1]:9092/"), {
      backend: "kafka",
      brokers: ["k1:9093", "k2:9092", "[::1]:9092"],
      group: undefined,
    });
    assert.deepEqual(parseTarget(new URL("kafka://127.0.0.1:9092")), {
      backend: "kafka",
      brokers: ["127.0.0.1:9092"],
      group: undefined,
    });
    assert.deepEqual(
      parseTarget({
        backend: "kafka",
        brokers: ["a:1", "b:2"],
        consumerGroup: "cqpm",
      }),
      { backend: "kafka", brokers: ["a:1", "b:2"], group: "cqpm" },
    );
    assert.deepEqual(
      parseTarget({ backend: "memory", brokers: [], consumerGroup: "g" }),
      {
        backend: "memory",
        name: "",
        group: "g",
      },
    );
  });

  it("refuses what it cannot use, naming it", () => {
    assert.throws(() => parseTarget("redis://x"), /unsupported scheme "redis"/);
    assert.throws(() => parseTarget("kafka://"), /invalid broker ""/);
    assert.throws(
      () => parseTarget("kafka://a:99999"),
      /invalid broker "a:99999"/,
    );
    assert.throws(() => parseTarget("kafka://a:1,,b:2"), /invalid broker/);
    assert.throws(() => parseTarget("kafka://user:pw@a:1"), /invalid broker/);
    assert.throws(() => parseTarget("memory://a/b"), /expected memory/);
    assert.throws(
      () => parseTarget({ backend: "nats", brokers: ["a:1"] }),
      /not supported yet/,
    );
  });

  it("either parses or throws a TypeError, for any string", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `kafka://${s}`),
          fc.string().map((s) => `memory://${s}`),
        ),
        (text) => {
          try {
            const target = parseTarget(text);
            if (target.backend === "kafka") {
              for (const b of target.brokers) {
                assert.match(
                  b,
                  /^[^,\s@/]+:\d{1,5}$/,
                );
              }
            }
          } catch (error) {
            assert.ok(error instanceof TypeError, String(error));
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
