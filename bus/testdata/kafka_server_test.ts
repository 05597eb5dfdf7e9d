// The Kafka brokers the bus tests use: the shared one answers, and a private
// one survives a SIGKILL (same ports, same data) and stops cleanly.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tcpReachable } from "../../tests/_util.ts";
import {
  KAFKA_BROKERS,
  kafkaMetadata,
  kafkaReachable,
  privateKafka,
  requireKafka,
  requireKafkaInstalled,
} from "./kafka_server.ts";

describe("Kafka test brokers", () => {
  it("the shared broker accepts connections and answers Metadata", async (t) => {
    if (!await requireKafka(t)) return;
    assert.equal(await kafkaReachable(), true);
    const metadata = await kafkaMetadata(KAFKA_BROKERS[0]);
    assert.ok(metadata.brokers.length >= 1, JSON.stringify(metadata));
    assert.equal(typeof metadata.clusterId, "string");
  });

  it(
    "a private broker starts, is killed, starts again on its ports and data, and stops",
    // ~15-20 s; more the first time, when Maven fetches the jars
    { timeout: 180_000 },
    async (t) => {
      if (!await requireKafkaInstalled(t)) return;
      await using kafka = await privateKafka();
      assert.deepEqual(kafka.brokers, [`127.0.0.1:${kafka.port}`]);
      const before = await kafkaMetadata(kafka.brokers[0]);
      assert.deepEqual(before.brokers.map((b) => b.port), [kafka.port]);

      await kafka.kill();
      assert.equal(await tcpReachable("127.0.0.1", kafka.port), false);

      await kafka.start(); // waits out the old session (~6 s)
      const after = await kafkaMetadata(kafka.brokers[0]);
      assert.equal(after.clusterId, before.clusterId); // same data
      assert.deepEqual(after.brokers.map((b) => b.port), [kafka.port]);

      await kafka.stop();
      assert.equal(await tcpReachable("127.0.0.1", kafka.port), false);
    },
  );
});
