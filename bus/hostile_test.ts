// Defects a red team found in the bus, each pinned by a test on the memory
// backend (the Kafka-only ones are in backends/kafka_kafkajs_test.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createBus, type Message, withRetry } from "@cqi/bus";
import { bytes, type Codec, json } from "@cqi/codec";
import { CqiError } from "@cqi/errors";
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
