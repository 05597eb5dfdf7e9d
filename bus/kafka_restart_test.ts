// A Kafka broker of the test's own, killed with SIGKILL and restarted while
// 10,000 events are published: every acknowledged event is consumed (none
// lost), duplicates are counted, no publish call outlives its timeout, and
// check() (readiness) fails while the broker is down and passes once it is back.
import assert from "node:assert/strict";
import { it } from "node:test";
import { createBus, type Message } from "@cqi/bus";
import { json } from "@cqi/codec";
import { kindOf } from "@cqi/errors";
import {
  privateKafka,
  requireKafkaInstalled,
} from "./testdata/kafka_server.ts";

const Tick = json<{ n: number }>(undefined, { name: "cqi.test.Tick" });
const TOTAL = 10_000;
const WINDOW = 200;
const PUBLISH_TIMEOUT = 5_000;

it("loses no acknowledged event when the broker is killed and restarted", {
  timeout: 180_000,
}, async (t) => {
  if (!await requireKafkaInstalled(t)) return;
  await using kafka = await privateKafka();
  const url = `kafka://${kafka.brokers.join(",")}`;
  await using bus = createBus(url, {
    partitions: 3,
    publishTimeout: PUBLISH_TIMEOUT,
    requestTimeout: 3_000,
    connectionTimeout: 2_000,
    sessionTimeout: 6_000,
  });
  const topic = "cqi.test.restart";
  const seen = new Map<number, number>();
  let allSeen: (() => void) | undefined;
  const acked = new Set<number>();
  await bus.subscribe(Tick, (m: Message<{ n: number }>) => {
    seen.set(m.value.n, (seen.get(m.value.n) ?? 0) + 1);
    if (allSeen && [...acked].every((n) => seen.has(n))) allSeen();
  }, { topic, group: "restart", concurrency: 8 });

  const failures = new Map<string, number>();
  let slowest = 0;
  let next = 0;
  let killed: Promise<void> | undefined;
  let restarted: Promise<void> | undefined;
  let checkedDown: Promise<string> | undefined;
  const publishOne = async (n: number) => {
    const start = performance.now();
    try {
      await bus.publish(Tick, { n }, { topic, key: `k${n % 50}` });
      acked.add(n);
    } catch (error) {
      const kind = kindOf(error) ?? String(error);
      failures.set(kind, (failures.get(kind) ?? 0) + 1);
    } finally {
      slowest = Math.max(slowest, performance.now() - start);
    }
  };
  const worker = async () => {
    while (next < TOTAL) {
      const n = next++;
      if (n === 2_000) {
        killed = kafka.kill();
        checkedDown = killed.then(() =>
          bus.check().then(() => "up", (error) => kindOf(error) ?? "?")
        );
      }
      if (n === 2_600) {
        restarted = killed!.then(() => kafka.start());
        await restarted;
      }
      await publishOne(n);
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
  await restarted;
  // Readiness follows the broker: down while it was, up once it is back.
  assert.ok(["temporary", "timeout"].includes(await checkedDown!));
  await bus.check();

  const done = new Promise<void>((resolve) => {
    allSeen = resolve;
    if ([...acked].every((n) => seen.has(n))) resolve();
  });
  const deadline = setTimeout(() => allSeen?.(), 90_000);
  await done;
  clearTimeout(deadline);
  const lost = [...acked].filter((n) => !seen.has(n));
  const duplicates = [...seen.values()].reduce((sum, c) => sum + c - 1, 0);
  console.log(
    `restart: ${TOTAL} published, ${acked.size} acknowledged, failed ${
      JSON.stringify(Object.fromEntries(failures))
    }, lost ${lost.length}, duplicates ${duplicates}, slowest publish ${
      Math.round(slowest)
    } ms`,
  );
  assert.equal(lost.length, 0, `lost ${lost.slice(0, 10)}`);
  assert.ok(acked.size > 0);
  for (const kind of failures.keys()) {
    assert.ok(["temporary", "timeout"].includes(kind), `failed as ${kind}`);
  }
  assert.ok(slowest < PUBLISH_TIMEOUT + 2_000, `a publish took ${slowest} ms`);
});
