// The publish queue over a driver of our own (the interface it batches
// for; the Kafka driver has its own tests against a real broker).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CqiError, temporary } from "@cqi/errors";
import type { BusDriver, OutgoingRecord } from "./backends/driver.ts";
import { Publisher } from "./publisher.ts";

function recordingDriver(fail?: (batch: OutgoingRecord[]) => unknown) {
  const batches: OutgoingRecord[][] = [];
  const gates: PromiseWithResolvers<void>[] = [];
  const driver = {
    system: "test",
    async publish(records: OutgoingRecord[]) {
      batches.push(records);
      const gate = Promise.withResolvers<void>();
      gates.push(gate);
      await gate.promise;
      const error = fail?.(records);
      if (error) throw error;
    },
  } as unknown as BusDriver;
  return { driver, batches, gates };
}

const record = (n: number, size = 10): OutgoingRecord => ({
  topic: "t",
  key: undefined,
  value: new Uint8Array(size).fill(n),
  headers: { n: String(n) },
});

const settle = () => new Promise((r) => setImmediate(r));

describe("Publisher", () => {
  it("sends the halves of a batch refused as invalid, so each caller gets its own outcome", async () => {
    const { driver, batches, gates } = recordingDriver((batch) =>
      batch.some((r) => r.value.byteLength > 100)
        ? new CqiError("invalid_input", "MESSAGE_TOO_LARGE")
        : undefined
    );
    const publisher = new Publisher(driver);
    const big = publisher.send(record(1, 1_000), 10_000, undefined);
    const small = publisher.send(record(2), 10_000, undefined);
    const bigRejects = assert.rejects(
      big,
      (e) => e instanceof CqiError && e.kind === "invalid_input",
    );
    for (let i = 0; i < 3; i++) {
      await settle();
      gates[i]?.resolve();
    }
    await bigRejects;
    await small;
    assert.deepEqual(batches.map((b) => b.map((r) => r.headers.n)), [
      ["1", "2"],
      ["1"],
      ["2"],
    ]);
  });

  it("sends the calls of one tick together, and those made meanwhile in the next send, in order", async () => {
    const { driver, batches, gates } = recordingDriver();
    const publisher = new Publisher(driver);
    const first = [1, 2, 3].map((n) =>
      publisher.send(record(n), 10_000, undefined)
    );
    await settle();
    assert.equal(batches.length, 1);
    const second = [4, 5].map((n) =>
      publisher.send(record(n), 10_000, undefined)
    );
    await settle();
    assert.equal(batches.length, 1, "one send at a time");
    gates[0].resolve();
    await Promise.all(first);
    await settle();
    assert.equal(batches.length, 2);
    gates[1].resolve();
    await Promise.all(second);
    assert.deepEqual(batches.map((b) => b.map((r) => r.headers.n)), [[
      "1",
      "2",
      "3",
    ], ["4", "5"]]);
    await publisher.drain();
  });

  it("splits a send at 500 records and at 512 KiB", async () => {
    const { driver, batches, gates } = recordingDriver();
    const publisher = new Publisher(driver);
    const sends = Array.from(
      { length: 600 },
      (_, i) => publisher.send(record(i), 10_000, undefined),
    );
    const big = [0, 1, 2].map((n) =>
      publisher.send(record(n, 300 * 1024), 10_000, undefined)
    );
    for (let i = 0; i < 4; i++) {
      await settle();
      gates[i]?.resolve();
    }
    await Promise.all([...sends, ...big]);
    assert.deepEqual(batches.map((b) => b.length), [500, 101, 1, 1]);
  });

  it("rejects every call of a failed send with the driver's error", async () => {
    const { driver, gates } = recordingDriver(() => temporary("broker down"));
    const publisher = new Publisher(driver);
    const calls = [1, 2].map((n) =>
      publisher.send(record(n), 10_000, undefined)
    );
    await settle();
    gates[0].resolve();
    for (const call of calls) {
      await assert.rejects(
        call,
        (e) => e instanceof CqiError && e.kind === "temporary",
      );
    }
  });

  it("times out a call, and never sends one that was still queued", async () => {
    const { driver, batches, gates } = recordingDriver();
    const publisher = new Publisher(driver);
    const inFlight = publisher.send(record(1), 30, undefined);
    await settle();
    const queued = publisher.send(record(2), 30, undefined);
    const controller = new AbortController();
    const aborted = publisher.send(record(3), 10_000, controller.signal);
    const abortedRejects = assert.rejects(
      aborted,
      (e) =>
        e instanceof CqiError && e.kind === "canceled" &&
        (e.cause as Error).message === "caller gave up",
    );
    controller.abort(new Error("caller gave up"));
    await assert.rejects(
      inFlight,
      (e) => e instanceof CqiError && e.kind === "timeout",
    );
    await assert.rejects(
      queued,
      (e) => e instanceof CqiError && e.kind === "timeout",
    );
    await abortedRejects;
    gates[0].resolve();
    await publisher.drain();
    assert.deepEqual(batches.map((b) => b.length), [1]);
  });
});
