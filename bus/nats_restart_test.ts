// A NATS server of the test's own, stopped (SIGKILL, then SIGTERM) and
// started again while 10,000 events are published: every acknowledged event
// is consumed (none lost), duplicates are counted, no publish call outlives
// its timeout, failures are only temporary or timeouts, and check()
// (readiness) fails while the server is down and passes once it is back.
import assert from "node:assert/strict";
import { it } from "node:test";
import { createBus, type Message } from "@cqi/bus";
import { json } from "@cqi/codec";
import { kindOf } from "@cqi/errors";
import { privateNats, requireNatsInstalled } from "./testdata/nats_server.ts";
import { waitFor } from "../tests/_util.ts";

const Tick = json<{ n: number }>(undefined, { name: "cqi.test.Tick" });
const TOTAL = 10_000;
const WINDOW = 200;
const PUBLISH_TIMEOUT = 3_000;
/** Publishes started before the server goes down, and before it is back. */
const DOWN_AT = 3_000;
const UP_AT = 3_600;

async function restartDuringPublish(
  how: "kill" | "stop",
  t: { skip(message?: string): void },
): Promise<void> {
  if (!await requireNatsInstalled(t)) return;
  await using nats = await privateNats();
  await using bus = createBus(nats.url, {
    nats: { stream: "RESTART", subjects: ["cqi.test.>"] },
    publishTimeout: PUBLISH_TIMEOUT,
    requestTimeout: 1_000,
    connectionTimeout: 1_000,
  });
  const topic = "cqi.test.restart";
  const seen = new Map<number, number>();
  let allSeen: (() => void) | undefined;
  const acked = new Set<number>();
  const unseen = () => {
    for (const n of acked) if (!seen.has(n)) return true;
    return false;
  };
  await bus.subscribe(Tick, (m: Message<{ n: number }>) => {
    const before = seen.get(m.value.n);
    seen.set(m.value.n, (before ?? 0) + 1);
    // A first delivery may be the last one awaited.
    if (allSeen && before === undefined && !unseen()) allSeen();
  }, { topic, group: "restart", concurrency: 8 });

  const failures = new Map<string, number>();
  let slowest = 0;
  let next = 0;
  let down: Promise<void> | undefined;
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
      if (n === DOWN_AT) {
        down = how === "kill" ? nats.kill() : nats.stop();
        checkedDown = down.then(() =>
          bus.check().then(() => "up", (error) => kindOf(error) ?? "?")
        );
      }
      if (n === UP_AT) {
        restarted = checkedDown!.then(() => nats.start());
        await restarted;
      }
      await publishOne(n);
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
  await restarted;
  // Readiness follows the server: down while it was, up once it is back.
  assert.ok(["temporary", "timeout"].includes(await checkedDown!));
  // Up again once the consumer's next pull succeeds: a restore that timed
  // out while the server restarted is said by check() until then (the
  // pull's backoff is at most 5 s).
  await waitFor(
    () => bus.check().then(() => true, () => false),
    10_000,
    "check() to pass after the restart",
    100,
  ).catch(() => bus.check()); // still failing: its own error says why

  const done = new Promise<void>((resolve) => {
    allSeen = resolve;
    if (!unseen()) resolve();
  });
  const deadline = setTimeout(() => allSeen?.(), 45_000);
  await done;
  clearTimeout(deadline);
  const lost = [...acked].filter((n) => !seen.has(n));
  const duplicates = [...seen.values()].reduce((sum, c) => sum + c - 1, 0);
  console.log(
    `restart (${how}): ${TOTAL} published, ${acked.size} acknowledged, failed ${
      JSON.stringify(Object.fromEntries(failures))
    }, lost ${lost.length}, duplicates ${duplicates}, slowest publish ${
      Math.round(slowest)
    } ms`,
  );
  assert.equal(lost.length, 0, `lost ${lost.slice(0, 10)}`);
  assert.ok(acked.size > DOWN_AT - WINDOW, `only ${acked.size} acknowledged`);
  // Publishing resumed once the server was back.
  assert.ok([...acked].some((n) => n > UP_AT), "none acknowledged after");
  for (const kind of failures.keys()) {
    assert.ok(["temporary", "timeout"].includes(kind), `failed as ${kind}`);
  }
  assert.ok(slowest < PUBLISH_TIMEOUT + 1_000, `a publish took ${slowest} ms`);
}

it(
  "loses no acknowledged event when the server is killed and restarted",
  { timeout: 90_000 },
  (t) => restartDuringPublish("kill", t),
);

it(
  "loses no acknowledged event when the server is stopped and restarted",
  { timeout: 90_000 },
  (t) => restartDuringPublish("stop", t),
);
