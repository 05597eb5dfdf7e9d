// The bus contract on a real Kafka broker (the one `scripts/kafka.sh start`
// runs on 127.0.0.1:9092; KAFKA_BROKERS overrides it). Without it the suite
// is skipped locally and fails under CI=true.
import process from "node:process";
import { test } from "node:test";
import { createBus } from "@cqi/bus";
import {
  KAFKA_BROKERS,
  kafkaReachable,
} from "../../bus/testdata/kafka_server.ts";
import { busContract } from "./bus.ts";

const url = `kafka://${KAFKA_BROKERS.join(",")}`;
if (await kafkaReachable()) {
  busContract("kafka", () => ({
    open: (options) => createBus(url, { partitions: 3, ...options }),
  }), { timeout: 60_000 });
} else if (process.env.CI === "true") {
  throw new Error(`Kafka at ${url} is not reachable, and CI=true requires it`);
} else {
  test("bus contract: kafka", (t) =>
    t.skip(`Kafka at ${url} is not reachable`));
}
