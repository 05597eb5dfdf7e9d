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
      () => parseTarget({ backend: "amqp" as "nats", brokers: ["a:1"] }),
      /unknown backend "amqp"/,
    );
    assert.throws(() => parseTarget("nats://a:0"), /invalid server "a:0"/);
  });

  it("reads nats URLs and sections, every server, credentials apart", () => {
    assert.deepEqual(parseTarget("nats://n1,n2:4223,[::1]:4222"), {
      backend: "nats",
      servers: ["n1:4222", "n2:4223", "[::1]:4222"],
      group: undefined,
      nats: {},
    });
    assert.deepEqual(parseTarget("nats://al%40ice:p%3Ass@n1:4222,n2"), {
      backend: "nats",
      servers: ["n1:4222", "n2:4222"],
      group: undefined,
      nats: { username: "al@ice", password: "p:ss" },
    });
    assert.deepEqual(parseTarget("nats://s3cr3t@n1"), {
      backend: "nats",
      servers: ["n1:4222"],
      group: undefined,
      nats: { token: "s3cr3t" },
    });
    const config = {
      backend: "nats" as const,
      brokers: ["n1:4222"],
      consumerGroup: "cqpm",
      username: "svc",
      password: { reveal: () => "pw" },
      stream: "ORDERS",
      subjects: ["orders.>"],
      maxDeliver: 3,
      backoff: [1_000, 5_000],
    };
    assert.deepEqual(
      parseTarget(config as unknown as Parameters<typeof parseTarget>[0]),
      {
        backend: "nats",
        servers: ["n1:4222"],
        group: "cqpm",
        nats: {
          username: "svc",
          password: "pw",
          stream: "ORDERS",
          subjects: ["orders.>"],
          maxDeliver: 3,
          backoff: [1_000, 5_000],
        },
      },
    );
  });

  it("never repeats credentials in an error", () => {
    for (
      const url of [
        "nats://user:hunter2@bad host:1",
        "nats://hunter2@a:99999",
        "nats://user:hunter2%zz@a:1",
        "kafka://user:hunter2@a:1",
      ]
    ) {
      assert.throws(() => parseTarget(url), (error: Error) => {
        assert.ok(error instanceof TypeError);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      });
    }
  });

  it("either parses or throws a TypeError, for any string", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `kafka://${s}`),
          fc.string().map((s) => `memory://${s}`),
          fc.string().map((s) => `nats://${s}`),
          fc.tuple(fc.string(), fc.string()).map(([u, h]) =>
            `nats://${u}@${h}`
          ),
        ),
        (text) => {
          try {
            const target = parseTarget(text);
            const list = target.backend === "kafka"
              ? target.brokers
              : target.backend === "nats"
              ? target.servers
              : [];
            {
              for (const b of list) {
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
