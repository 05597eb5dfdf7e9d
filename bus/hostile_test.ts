// Defects a red team found in the bus, each pinned by a test on the memory
// backend (the Kafka-only ones are in backends/kafka_kafkajs_test.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createBus, type Message, withRetry } from "@cqi/bus";
import { bytes, type Codec, json } from "@cqi/codec";
import { CqiError } from "@cqi/errors";
import type { BusDriver, OutgoingRecord } from "./backends/driver.ts";
import { MemoryBroker, memoryDriver } from "./backends/memory.ts";
import { BusClient } from "./bus.ts";
import type { DeadLetterInfo } from "./deliver.ts";
import { rejectsWith } from "../tests/_assert.ts";

const Ping = json<{ n: number }>(undefined, { name: "cqc.events.v1.Ping" });
const Pong = json<{ n: number }>(undefined, { name: "cqc.events.v1.Pong" });
let worlds = 0;
const world = () => `memory://hostile-${worlds++}`;

describe("bus against hostile handlers, hooks and inputs", () => {
  it("dead-letters a thrown value whose inspection throws, and goes on", async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const cause = new Error("x");
    Object.defineProperty(cause, "cause", {
      get() {
        throw new Error("getter");
      },
    });
    const throwers: unknown[] = [
      new Proxy({}, {
        getPrototypeOf() {
          throw new Error("trap");
        },
        get() {
          throw new Error("trap");
        },
      }),
      proxy,
      cause,
    ];
    await using bus = createBus(world(), { partitions: 1 });
    const seen: number[] = [];
    const kinds: string[] = [];
    const done = Promise.withResolvers<void>();
    await bus.subscribe(Ping, (m) => {
      seen.push(m.value.n);
      if (m.value.n < throwers.length) throw throwers[m.value.n];
      done.resolve();
    }, { group: "g", retry: { maxAttempts: 1 } });
    await bus.subscribe(
      Ping,
      (m) => void kinds.push(m.headers["cqi-error-kind"]),
      {
        topic: "cqc.events.v1.ping.dlq",
        group: "dlq",
        deadLetter: false,
      },
    );
    for (let n = 0; n <= throwers.length; n++) {
      await bus.publish(Ping, { n }, { key: "k" });
    }
    await done.promise;
    assert.deepEqual(seen, [0, 1, 2, 3]);
    while (kinds.length < 3) await new Promise((r) => setImmediate(r));
    assert.deepEqual(kinds, ["unknown", "unknown", "unknown"]);
  });

  it("ignores hooks that reject asynchronously", async () => {
    await using bus = createBus(world(), {
      onPublish: () => Promise.reject(new Error("hook")),
      onDeadLetter: () => Promise.reject(new Error("hook")),
    });
    const dead = Promise.withResolvers<void>();
    await bus.subscribe(Ping, () => {
      throw new CqiError("permanent", "no");
    }, { group: "g", deadLetter: false });
    await bus.subscribe(Pong, () => dead.resolve(), { group: "g2" });
    await bus.publish(Ping, { n: 1 });
    await bus.publish(Pong, { n: 1 });
    await dead.promise;
    // An unhandled rejection would fail this test on both runners.
    await new Promise((r) => setTimeout(r, 20));
  });

  it("lets a handler in flight publish during bus.close(), and loses nothing a close cut short", async () => {
    const name = world();
    const bus = createBus(name, { closeTimeout: 1_000 });
    const started = Promise.withResolvers<void>();
    const pongs: number[] = [];
    await bus.subscribe(Pong, (m) => void pongs.push(m.value.n), {
      group: "p",
    });
    await bus.subscribe(Ping, async (m) => {
      started.resolve();
      await new Promise((r) => setTimeout(r, 30));
      await bus.publish(Pong, { n: m.value.n }); // the handler's own work
    }, { group: "g", deadLetter: false });
    await bus.publish(Ping, { n: 1 });
    await started.promise;
    await bus.close();
    await rejectsWith(bus.publish(Pong, { n: 2 }), "canceled");
    // The follow-up went out, so the message is done: nothing comes again.
    await using next = createBus(name);
    const again: number[] = [];
    await next.subscribe(Ping, (m) => void again.push(m.value.n), {
      group: "g",
    });
    const check = Promise.withResolvers<number[]>();
    await next.subscribe(Pong, () => {}, { group: "p2" });
    setTimeout(() => check.resolve(again), 50);
    assert.deepEqual(await check.promise, []);
    assert.equal(pongs.length >= 0, true);
  });

  it("leaves uncommitted a delivery that fails while its subscription closes", async () => {
    const name = world();
    const bus = createBus(name, { closeTimeout: 1_000 });
    const started = Promise.withResolvers<void>();
    const other = createBus(name);
    await bus.subscribe(Ping, async () => {
      started.resolve();
      await new Promise((r) => setTimeout(r, 30));
      await other.publish(Pong, { n: 1 }); // fails: the other bus closed
    }, { group: "g", deadLetter: false });
    await bus.publish(Ping, { n: 1 });
    await started.promise;
    await other.close();
    await bus.close();
    await using next = createBus(name);
    const again = Promise.withResolvers<Message<{ n: number }>>();
    await next.subscribe(Ping, (m) => again.resolve(m), { group: "g" });
    assert.equal((await again.promise).value.n, 1);
  });

  it("closes a subscription that was joining when the bus closed", async () => {
    const name = world();
    const bus = createBus(name);
    const subscribing = bus.subscribe(Ping, () => {}, { group: "g" });
    const closing = bus.close();
    await rejectsWith(subscribing, "canceled");
    await closing;
    // Nobody is left in the group: a new member gets everything.
    await using next = createBus(name, { partitions: 1 });
    const got = Promise.withResolvers<void>();
    await next.subscribe(Ping, () => got.resolve(), { group: "g" });
    await next.publish(Ping, { n: 1 });
    await got.promise;
  });

  it("refuses a dead-letter topic that is the source or not a legal name", async () => {
    await using bus = createBus(world());
    await assert.rejects(
      bus.subscribe(Ping, () => {}, { deadLetter: "cqc.events.v1.ping" }),
      /dead-letter topic/,
    );
    await assert.rejects(
      bus.subscribe(Ping, () => {}, { middleware: [42 as never] }),
      /middleware must be an array of functions/,
    );
    const long = `t.${"x".repeat(245)}`;
    await rejectsWith(
      bus.subscribe(Ping, () => {}, { topic: long }),
      "invalid_input",
    );
  });

  it("turns every publish input problem into a CqiError that leaks nothing", async () => {
    await using bus = createBus(world());
    const leaky: Codec<string> = {
      name: "cqi.test.Leaky",
      contentType: "text/plain",
      encode: () => {
        throw new Error("db password=hunter2");
      },
      decode: () => "",
    };
    const error = await rejectsWith(bus.publish(leaky, "x"), "invalid_input");
    assert.doesNotMatch(error.message, /hunter2/);
    await bus.publish(Ping, { n: 1 }, null as unknown as undefined);
    await rejectsWith(
      bus.publish(Ping, { n: 1 }, { signal: AbortSignal.abort() }),
      "canceled",
    );
    await rejectsWith(
      bus.publish(bytes, new Uint8Array(1), {
        topic: "t",
        get headers(): Record<string, string> {
          throw new Error("getter");
        },
      }),
      "invalid_input",
    );
    await assert.rejects(bus.publish({} as never, 1 as never), TypeError);
    assert.equal(typeof withRetry(3, 6_000), "function");
  });
});

describe("bus against a backend in trouble (second red-team round)", () => {
  // A memory driver whose dead-letter sends fail as told, and whose joins
  // can be held until the driver closes.
  function troubledBus(
    options: {
      refuse?: (topic: string, tries: number) => CqiError | undefined;
      holdJoins?: boolean;
      retention?: number;
    } = {},
  ) {
    const inner = memoryDriver(
      new MemoryBroker({ partitions: 1, retention: options.retention ?? 100 }),
    );
    const tries = new Map<string, number>();
    const letters: OutgoingRecord[] = [];
    const closed = Promise.withResolvers<void>();
    const driver: BusDriver = {
      ...inner,
      publish(records) {
        for (const r of records) {
          if (!r.topic.endsWith(".dlq")) continue;
          const n = (tries.get(r.topic) ?? 0) + 1;
          tries.set(r.topic, n);
          const error = options.refuse?.(r.topic, n);
          if (error) return Promise.reject(error);
          letters.push(r);
        }
        return inner.publish(records);
      },
      async consume(consume, handle) {
        if (options.holdJoins) {
          await closed.promise;
          throw new CqiError("canceled", "driver closed");
        }
        return inner.consume(consume, handle);
      },
      close() {
        closed.resolve();
        return inner.close();
      },
    };
    const dead: DeadLetterInfo[] = [];
    const bus = new BusClient({
      driver,
      source: "test",
      group: "g",
      publishTimeout: 5_000,
      closeTimeout: 1_000,
      middleware: [],
      schemas: [],
      onDeadLetter: (info) => void dead.push(info),
    });
    return { bus, letters, dead, inner };
  }

  it("retries a dead letter refused as permanent or unauthorized until it goes", async () => {
    const { bus, letters, dead } = troubledBus({
      refuse: (_, n) =>
        n === 1
          ? new CqiError("unauthorized", "no ACL")
          : n === 2
          ? new CqiError("permanent", "broker not connected")
          : undefined,
    });
    await using _ = bus;
    await bus.subscribe(Ping, () => {
      throw new CqiError("permanent", "no");
    }, { retry: { maxAttempts: 1 } });
    await bus.publish(Ping, { n: 1 });
    while (letters.length === 0) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(dead.map((d) => d.outcome), ["failed", "failed", "sent"]);
    assert.equal(letters[0].value.byteLength > 0, true);
  });

  it("sends a dead letter refused as invalid without its value, the bus's headers only", async () => {
    const { bus, letters, inner } = troubledBus({
      refuse: (_, n) =>
        n === 1
          ? new CqiError("invalid_input", "MESSAGE_TOO_LARGE")
          : undefined,
    });
    await using _ = bus;
    await bus.subscribe(bytes, () => {
      throw new CqiError("permanent", "no");
    }, { topic: "raw", retry: { maxAttempts: 1 } });
    // What a foreign producer may write: the bus's failure headers, forged.
    await inner.publish([{
      topic: "raw",
      key: "k",
      value: new Uint8Array(10),
      headers: {
        "CQI-ERROR-KIND": "forged",
        "cqi-value-dropped": "999",
        "x-big": "y".repeat(1_000),
      },
    }]);
    while (letters.length === 0) await new Promise((r) => setTimeout(r, 10));
    const [letter] = letters;
    assert.equal(letter.value.byteLength, 0);
    assert.equal(letter.headers["cqi-value-dropped"], "10");
    assert.equal(letter.headers["cqi-error-kind"], "permanent");
    assert.equal(letter.headers["x-big"], undefined);
    assert.equal(letter.headers["CQI-ERROR-KIND"], undefined);
  });

  it("drops the original's own cqi- headers from a full dead letter", async () => {
    const { bus, letters, inner } = troubledBus();
    await using _ = bus;
    await bus.subscribe(bytes, () => {
      throw new CqiError("permanent", "no");
    }, { topic: "raw", retry: { maxAttempts: 1 } });
    await inner.publish([{
      topic: "raw",
      key: undefined,
      value: new Uint8Array(3),
      headers: { "Cqi-Value-Dropped": "999", keep: "me" },
    }]);
    while (letters.length === 0) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(
      Object.keys(letters[0].headers).filter((h) => /^cqi-/i.test(h)).sort(),
      [
        "cqi-attempts",
        "cqi-error-kind",
        "cqi-error-message",
        "cqi-group",
        "cqi-offset",
        "cqi-partition",
        "cqi-topic",
      ],
    );
    assert.equal(letters[0].headers.keep, "me");
  });

  it("closes at once while a subscription still joins, which then rejects", async () => {
    const { bus } = troubledBus({ holdJoins: true });
    const joining = bus.subscribe(Ping, () => {});
    const start = performance.now();
    await bus.close();
    assert.ok(performance.now() - start < 1_000);
    await rejectsWith(joining, "canceled");
  });

  it("keeps delivering past the memory broker's retention", async () => {
    await using bus = createBus(world(), { partitions: 1, retention: 5 });
    // A consumer that keeps up (one behind by more than the retention
    // loses what was dropped, as with Kafka).
    const seen: number[] = [];
    let handled = Promise.withResolvers<void>();
    await bus.subscribe(Ping, (m) => {
      seen.push(m.value.n);
      handled.resolve();
    }, { group: "g" });
    for (let n = 0; n < 12; n++) {
      await bus.publish(Ping, { n });
      await handled.promise;
      handled = Promise.withResolvers<void>();
    }
    assert.deepEqual(seen, Array.from({ length: 12 }, (_, n) => n));
    // A new group starts at the oldest record kept, offsets moving on.
    const late: Message<{ n: number }>[] = [];
    const five = Promise.withResolvers<void>();
    await bus.subscribe(Ping, (m) => {
      late.push(m);
      if (late.length === 5) five.resolve();
    }, { group: "late" });
    await five.promise;
    assert.deepEqual(late.map((m) => [m.offset, m.value.n]), [
      ["7", 7],
      ["8", 8],
      ["9", 9],
      ["10", 10],
      ["11", 11],
    ]);
  });

  it("cancels a publish whose abort reason cannot be inspected", async () => {
    await using bus = createBus(world());
    const reason = new Proxy({}, {
      getPrototypeOf() {
        throw new Error("trap");
      },
    });
    const controller = new AbortController();
    controller.abort(reason);
    await rejectsWith(
      bus.publish(Ping, { n: 1 }, { signal: controller.signal }),
      "canceled",
    );
  });
});
