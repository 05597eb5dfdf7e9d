// The contract every @cqi/bus backend keeps: one suite, run against memory
// and against a real Kafka broker, on Deno and on Bun (bus_memory_test.ts,
// bus_kafka_test.ts). Every test uses topics and groups of its own.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import type { Bus, BusOptions, Message } from "@cqi/bus";
import { timeout, topicOf } from "@cqi/bus";
import { bytes, type Codec, json } from "@cqi/codec";
import { permanent, temporary } from "@cqi/errors";
import { createTracing, startSpan, type Tracing } from "@cqi/tracing";
import {
  type PositionChanged,
  PositionChangedSchema,
  Side,
} from "../../proto/gen/cqc/events/v1/position_changed_pb.ts";
import { rejectsWith } from "../_assert.ts";

/** Buses of one test: each `open` shares one broker. */
export interface BusWorld {
  open(options?: BusOptions): Bus;
}

let runs = 0;
const run = `${Date.now().toString(36)}${
  Math.random().toString(36).slice(2, 6)
}`;

/** A topic name no other test (nor run) uses. */
export function uniqueTopic(label: string): string {
  return `cqi.test.${run}.${label}.${runs++}`;
}

function changed(n: number, account = "acct-1"): PositionChanged {
  return create(PositionChangedSchema, {
    eventId: `e-${n}`,
    position: { accountId: account, assetId: "BTC", quantity: BigInt(n) },
    side: Side.BUY,
    reason: n % 2 === 0 ? "fill" : undefined,
    sequence: BigInt(n),
  });
}

/** A handler that gathers messages until `count` arrived. */
function collector<T>(count: number) {
  const messages: Message<T>[] = [];
  const { promise, resolve } = Promise.withResolvers<Message<T>[]>();
  return {
    messages,
    done: promise,
    handler: (message: Message<T>) => {
      messages.push(message);
      if (messages.length === count) resolve(messages);
    },
  };
}

/** Resolves with the first value `fn` returns that passes `check`, polling (a Kafka group settles in its own time). */
async function within<T>(
  what: string,
  ms: number,
  fn: () => T,
  check: (value: T) => boolean,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = fn();
    if (check(value)) return value;
    if (Date.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs the contract against the buses `world` opens. */
export function busContract(
  name: string,
  world: () => BusWorld,
  limits: {
    timeout: number;
    /**
     * The backend splits topics into partitions that each member of a group
     * owns (Kafka, memory). NATS has none: a group's members share one
     * durable consumer, and each message goes to one of them.
     */
    partitions?: boolean;
  } = { timeout: 30_000 },
): void {
  const opts = { timeout: limits.timeout };
  describe(`bus contract: ${name}`, () => {
    it(
      "delivers typed messages with their key, headers and metadata",
      opts,
      async () => {
        await using bus = world().open({ service: { name: "cqpm" } });
        const topic = uniqueTopic("roundtrip");
        const got = collector<PositionChanged>(2);
        await bus.subscribe(PositionChangedSchema, got.handler, {
          topic,
          group: topic,
        });
        const before = Date.now();
        const published = await bus.publish(PositionChangedSchema, changed(1), {
          topic,
          key: "acct-1",
          headers: { tenant: "eu" },
        });
        await bus.publish(PositionChangedSchema, changed(2), {
          topic,
          key: "acct-1",
        });
        const [first, second] = await got.done;
        assert.equal(published.topic, topic);
        assert.equal(first.id, published.id);
        assert.equal(first.value.eventId, "e-1");
        assert.equal(first.value.position?.quantity, 1n);
        assert.equal(first.value.reason, undefined);
        assert.equal(second.value.reason, "fill");
        assert.equal(first.topic, topic);
        assert.equal(first.key, "acct-1");
        assert.equal(first.group, topic);
        assert.equal(first.attempt, 1);
        assert.equal(first.type, "cqc.events.v1.PositionChanged");
        assert.equal(first.headers.tenant, "eu");
        assert.equal(first.headers["content-type"], "application/x-protobuf");
        assert.equal(first.headers.ce_source, "cqpm");
        assert.equal(first.headers.ce_specversion, "1.0");
        assert.ok(first.time && first.time.getTime() >= before - 1_000);
        assert.equal(first.partition, second.partition);
        assert.ok(BigInt(second.offset) > BigInt(first.offset));
        assert.ok(first.signal instanceof AbortSignal && !first.signal.aborted);
      },
    );

    it(
      "derives the topic from the message type; the topic forms work",
      opts,
      async () => {
        assert.equal(
          topicOf(PositionChangedSchema.typeName),
          "cqc.events.v1.position_changed",
        );
        await using bus = world().open({ schemas: [PositionChangedSchema] });
        const group = uniqueTopic("derived");
        const mine = changed(1);
        const seen = Promise.withResolvers<Message>();
        // The derived topic is shared across runs: wait for this run's event.
        const published = await bus.publish(PositionChangedSchema, mine);
        assert.equal(published.topic, "cqc.events.v1.position_changed");
        await bus.subscribe("cqc.events.v1.position_changed", (m) => {
          if (m.id === published.id) seen.resolve(m);
        }, { group });
        const message = await seen.promise;
        assert.equal((message.value as PositionChanged).eventId, "e-1");
        // publish(topic, message) finds the schema by the message's type.
        const topic = uniqueTopic("spec");
        const got = collector<unknown>(1);
        await bus.subscribe(topic, got.handler, { group: topic });
        await bus.publish(topic, changed(5));
        const [spec] = await got.done;
        assert.equal((spec.value as PositionChanged).position?.quantity, 5n);
        await rejectsWith(
          bus.publish(topic, { $typeName: "cqc.Unknown" }),
          "invalid_input",
          /unknown message type "cqc.Unknown"/,
        );
      },
    );

    it(
      "refuses bad topics, headers, keys and values as invalid_input",
      opts,
      async () => {
        await using bus = world().open();
        const Note = json<{ text: string }>(undefined, {
          name: "cqi.test.Note",
        });
        await rejectsWith(
          bus.publish(Note, { text: "x" }, { topic: "has space" }),
          "invalid_input",
          /invalid topic/,
        );
        await rejectsWith(
          bus.publish(Note, { text: "x" }, { topic: "a..b" }),
          "invalid_input",
        );
        await rejectsWith(
          bus.publish(Note, { text: "x" }, {
            topic: uniqueTopic("h"),
            headers: { ce_id: "x" },
          }),
          "invalid_input",
          /the bus sets it/,
        );
        await rejectsWith(
          bus.publish(Note, { text: "x" }, {
            topic: uniqueTopic("h"),
            headers: { n: 1 as unknown as string },
          }),
          "invalid_input",
        );
        await rejectsWith(
          bus.publish(Note, { text: "x" }, {
            topic: uniqueTopic("k"),
            key: 5 as unknown as string,
          }),
          "invalid_input",
        );
        await rejectsWith(
          bus.publish(
            PositionChangedSchema,
            { text: "x" } as unknown as PositionChanged,
            {
              topic: uniqueTopic("v"),
            },
          ),
          "invalid_input",
        );
      },
    );

    it(
      "gives every group every message; members of one group split the partitions",
      opts,
      async () => {
        const w = world();
        await using bus = w.open({ partitions: 3 });
        await using other = w.open({ partitions: 3 });
        const topic = uniqueTopic("groups");
        const a = collector<PositionChanged>(30);
        const b = collector<PositionChanged>(30);
        await bus.subscribe(PositionChangedSchema, a.handler, {
          topic,
          group: `${topic}.a`,
        });
        await other.subscribe(PositionChangedSchema, b.handler, {
          topic,
          group: `${topic}.b`,
        });
        const first: Message<PositionChanged>[] = [];
        const second: Message<PositionChanged>[] = [];
        const g = `${topic}.split`;
        await bus.subscribe(PositionChangedSchema, (m) => void first.push(m), {
          topic,
          group: g,
        });
        await other.subscribe(
          PositionChangedSchema,
          (m) => void second.push(m),
          { topic, group: g },
        );
        await Promise.all(
          Array.from(
            { length: 30 },
            (_, i) =>
              bus.publish(PositionChangedSchema, changed(i, `acct-${i}`), {
                topic,
                key: `acct-${i}`,
              }),
          ),
        );
        assert.deepEqual(ids(await a.done), range(30));
        assert.deepEqual(ids(await b.done), range(30));
        await within(
          "the split group's 30",
          limits.timeout / 2,
          () => first.length + second.length,
          (n) => n >= 30,
        );
        assert.deepEqual(ids([...first, ...second]), range(30));
        const parts = (ms: Message[]) => new Set(ms.map((m) => m.partition));
        // Without partitions (NATS) the members pull from one consumer: who
        // asks first gets what is there, so one may take all 30 when the
        // other's first pull comes late. Each message once is the contract.
        if (limits.partitions === false) return;
        assert.ok(
          first.length > 0 && second.length > 0,
          `${first.length}/${second.length}`,
        );
        for (const p of parts(first)) {
          assert.ok(!parts(second).has(p), `partition ${p} in both`);
        }
      },
    );

    it(
      "keeps per-key order with concurrency, never two of one key at once",
      opts,
      async () => {
        await using bus = world().open({ partitions: 3 });
        const topic = uniqueTopic("order");
        const keys = ["a", "b", "c", "d", "e", "f"];
        const perKey = 20;
        const seen = new Map<string, number[]>();
        const busy = new Set<string>();
        let overlap = 0;
        let parallel = 0;
        const done = Promise.withResolvers<void>();
        let count = 0;
        await bus.subscribe(PositionChangedSchema, async (m) => {
          const key = m.key!;
          if (busy.has(key)) overlap++;
          busy.add(key);
          parallel = Math.max(parallel, busy.size);
          for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
          busy.delete(key);
          seen.set(key, [...seen.get(key) ?? [], Number(m.value.sequence)]);
          if (++count === keys.length * perKey) done.resolve();
        }, { topic, group: topic, concurrency: 4 });
        const sends = [];
        for (let i = 0; i < perKey; i++) {
          for (const key of keys) {
            sends.push(
              bus.publish(PositionChangedSchema, changed(i, key), {
                topic,
                key,
              }),
            );
          }
        }
        await Promise.all(sends);
        await done.promise;
        assert.equal(overlap, 0);
        assert.ok(parallel > 1, "ran keys in parallel");
        for (const key of keys) assert.deepEqual(seen.get(key), range(perKey));
      },
    );

    it(
      "delivers again after a temporary failure; dead-letters at once after a permanent one",
      opts,
      async () => {
        await using bus = world().open();
        const topic = uniqueTopic("retry");
        const attempts: number[] = [];
        const ok = Promise.withResolvers<void>();
        await bus.subscribe(PositionChangedSchema, (m) => {
          if (m.value.eventId !== "e-1") return;
          attempts.push(m.attempt);
          if (m.attempt < 2) throw temporary("downstream busy");
          ok.resolve();
        }, { topic, group: topic, retry: { initialDelay: 1 } });
        await bus.publish(PositionChangedSchema, changed(1), { topic });
        await ok.promise;
        assert.deepEqual(attempts, [1, 2]);

        const topic2 = uniqueTopic("permanent");
        const calls: number[] = [];
        await bus.subscribe(PositionChangedSchema, (m) => {
          calls.push(m.attempt);
          throw permanent("account closed");
        }, { topic: topic2, group: topic2 });
        const dead = collector<PositionChanged>(1);
        await bus.subscribe(PositionChangedSchema, dead.handler, {
          topic: `${topic2}.dlq`,
          group: `${topic2}.dlq`,
          deadLetter: false,
        });
        await bus.publish(PositionChangedSchema, changed(3), {
          topic: topic2,
          key: "acct-3",
        });
        const [letter] = await dead.done;
        assert.deepEqual(calls, [1]);
        assert.equal(letter.value.eventId, "e-3");
        assert.equal(letter.key, "acct-3");
        assert.equal(letter.headers["cqi-error-kind"], "permanent");
        assert.equal(letter.headers["cqi-error-message"], "account closed");
        assert.equal(letter.headers["cqi-attempts"], "1");
        assert.equal(letter.headers["cqi-topic"], topic2);
        assert.equal(letter.headers["cqi-group"], topic2);
      },
    );

    it(
      "dead-letters after the last retry, and hides other errors' messages",
      opts,
      async () => {
        await using bus = world().open();
        const topic = uniqueTopic("exhaust");
        const attempts: number[] = [];
        await bus.subscribe(PositionChangedSchema, (m) => {
          attempts.push(m.attempt);
          if (m.value.eventId === "e-1") throw temporary("still down");
          throw new TypeError("secret=hunter2");
        }, {
          topic,
          group: topic,
          retry: { maxAttempts: 3, initialDelay: 1, maxDelay: 2 },
        });
        const dead = collector<PositionChanged>(2);
        await bus.subscribe(PositionChangedSchema, dead.handler, {
          topic: `${topic}.dlq`,
          group: `${topic}.dlq`,
          deadLetter: false,
        });
        await bus.publish(PositionChangedSchema, changed(1), {
          topic,
          key: "k",
        });
        await bus.publish(PositionChangedSchema, changed(2), {
          topic,
          key: "k",
        });
        const [first, second] = await dead.done;
        assert.deepEqual(attempts, [1, 2, 3, 1]);
        assert.equal(first.headers["cqi-error-kind"], "temporary");
        assert.equal(first.headers["cqi-attempts"], "3");
        assert.equal(second.headers["cqi-error-kind"], "unknown");
        assert.equal(second.headers["cqi-error-message"], "internal error");
        assert.ok(!JSON.stringify(second.headers).includes("hunter2"));
      },
    );

    it(
      "never hands a malformed payload to the handler, and goes on",
      opts,
      async () => {
        await using bus = world().open();
        const topic = uniqueTopic("malformed");
        // A codec that writes raw bytes under the real type's name.
        const raw: Codec<Uint8Array> = {
          ...bytes,
          name: PositionChangedSchema.typeName,
        };
        const handled: string[] = [];
        const next = Promise.withResolvers<void>();
        await bus.subscribe(PositionChangedSchema, (m) => {
          handled.push(m.value.eventId);
          next.resolve();
        }, { topic, group: topic });
        const dead = collector<Uint8Array>(2);
        await bus.subscribe(bytes, dead.handler, {
          topic: `${topic}.dlq`,
          group: `${topic}.dlq`,
          deadLetter: false,
        });
        const Other = json<{ a: number }>(undefined, {
          name: "cqi.test.Other",
        });
        await bus.publish(raw, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), {
          topic,
          key: "k",
        });
        await bus.publish(Other, { a: 1 }, { topic, key: "k" });
        await bus.publish(PositionChangedSchema, changed(9), {
          topic,
          key: "k",
        });
        await next.promise;
        assert.deepEqual(handled, ["e-9"]);
        const letters = await dead.done;
        assert.deepEqual(letters.map((l) => l.headers["cqi-error-kind"]), [
          "invalid_input",
          "invalid_input",
        ]);
        assert.deepEqual([...letters[0].value], [0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert.match(letters[1].headers["cqi-error-message"], /cqi.test.Other/);
      },
    );

    it("times a handler out with the timeout middleware", opts, async () => {
      await using bus = world().open();
      const topic = uniqueTopic("timeout");
      const aborted = Promise.withResolvers<unknown>();
      await bus.subscribe(
        PositionChangedSchema,
        (m) =>
          new Promise<void>((_, reject) => {
            m.signal.addEventListener("abort", () => {
              aborted.resolve(m.signal.reason);
              reject(m.signal.reason);
            });
          }),
        {
          topic,
          group: topic,
          retry: { maxAttempts: 1 },
          middleware: [timeout(50)],
        },
      );
      const dead = collector<PositionChanged>(1);
      await bus.subscribe(PositionChangedSchema, dead.handler, {
        topic: `${topic}.dlq`,
        group: `${topic}.dlq`,
        deadLetter: false,
      });
      await bus.publish(PositionChangedSchema, changed(1), { topic });
      const [letter] = await dead.done;
      assert.equal(letter.headers["cqi-error-kind"], "timeout");
      assert.ok(await aborted.promise);
    });

    it(
      "close() lets handlers in flight finish and commit; the rest comes again",
      opts,
      async () => {
        const w = world();
        const topic = uniqueTopic("close");
        const release = Promise.withResolvers<void>();
        const started = Promise.withResolvers<void>();
        const first: string[] = [];
        const bus = w.open({ partitions: 1 });
        const sub = await bus.subscribe(PositionChangedSchema, async (m) => {
          first.push(m.value.eventId);
          started.resolve();
          await release.promise;
        }, { topic, group: topic });
        for (let i = 0; i < 5; i++) {
          await bus.publish(PositionChangedSchema, changed(i), {
            topic,
            key: "k",
          });
        }
        await started.promise;
        let closed = false;
        const closing = sub.close().then(() => (closed = true));
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(closed, false, "close waits for the handler in flight");
        release.resolve();
        await closing;
        assert.deepEqual(first, ["e-0"]);
        // The same group, again: e-0 was committed, e-1.. were not handled.
        const again = collector<PositionChanged>(4);
        await bus.subscribe(PositionChangedSchema, again.handler, {
          topic,
          group: topic,
        });
        assert.deepEqual((await again.done).map((m) => m.value.eventId), [
          "e-1",
          "e-2",
          "e-3",
          "e-4",
        ]);
        await bus.close();
        await rejectsWith(
          bus.publish(PositionChangedSchema, changed(1), { topic }),
          "canceled",
        );
        await assert.rejects(
          bus.subscribe(PositionChangedSchema, () => {}, { topic }),
        );
      },
    );

    it(
      "close() leaves a handler that never settles behind after closeTimeout; its message comes again",
      opts,
      async () => {
        const w = world();
        const topic = uniqueTopic("stuck");
        const started = Promise.withResolvers<AbortSignal>();
        await using bus = w.open({ partitions: 1, closeTimeout: 100 });
        const sub = await bus.subscribe(PositionChangedSchema, (m) => {
          started.resolve(m.signal);
          return new Promise<void>(() => {}); // ignores its signal, for ever
        }, { topic, group: topic });
        await bus.publish(PositionChangedSchema, changed(1), { topic });
        const signal = await started.promise;
        const start = performance.now();
        await sub.close();
        assert.ok(signal.aborted, "the handler was told to stop");
        assert.ok(performance.now() - start < 5_000, "close() ended");
        const again = collector<PositionChanged>(1);
        await bus.subscribe(PositionChangedSchema, again.handler, {
          topic,
          group: topic,
        });
        const [message] = await again.done;
        assert.equal(message.value.eventId, "e-1");
      },
    );

    it(
      "publishes in batches under load, in order, each call acknowledged",
      opts,
      async () => {
        await using bus = world().open({ partitions: 1 });
        const topic = uniqueTopic("load");
        const n = 2_000;
        const got = collector<PositionChanged>(n);
        await bus.subscribe(PositionChangedSchema, got.handler, {
          topic,
          group: topic,
        });
        const results = await Promise.all(
          Array.from(
            { length: n },
            (_, i) =>
              bus.publish(PositionChangedSchema, changed(i), {
                topic,
                key: "one",
              }),
          ),
        );
        assert.equal(
          new Set(results.map((r) => r.id)).size,
          n,
        );
        assert.deepEqual(
          (await got.done).map((m) => Number(m.value.sequence)),
          range(n),
        );
      },
    );

    describe("tracing", () => {
      let tracing: Tracing;
      before(() => {
        tracing = createTracing({
          service: { name: "cqpm" },
          exporter: "memory",
          sampler: "always",
        });
      });
      after(() => tracing.close());

      it(
        "continues the publisher's trace in the subscriber",
        opts,
        async () => {
          await using bus = world().open();
          const topic = uniqueTopic("trace");
          const handled = Promise.withResolvers<void>();
          await bus.subscribe(
            PositionChangedSchema,
            () => startSpan("handle", () => handled.resolve()),
            { topic, group: topic },
          );
          await startSpan(
            "request",
            () => bus.publish(PositionChangedSchema, changed(1), { topic }),
            undefined,
            { kind: "server" },
          );
          await handled.promise;
          const spans = await within(
            "4 spans",
            5_000,
            () => tracing.spans(),
            (s) =>
              s.some((x) => x.name === "handle") &&
              s.some((x) => x.kind === "consumer"),
          );
          const request = spans.find((s) => s.name === "request")!;
          const send = spans.find((s) => s.kind === "producer")!;
          const process = spans.find((s) => s.kind === "consumer")!;
          const handle = spans.find((s) => s.name === "handle")!;
          assert.equal(send.name, `publish ${topic}`);
          assert.equal(send.parentSpanId, request.spanId);
          assert.equal(process.name, `process ${topic}`);
          assert.equal(process.traceId, request.traceId);
          assert.equal(process.parentSpanId, send.spanId);
          assert.equal(handle.parentSpanId, process.spanId);
          assert.equal(
            process.attributes["messaging.consumer.group.name"],
            topic,
          );
        },
      );
    });
  });
}

function ids(messages: Message<PositionChanged>[]): number[] {
  return messages.map((m) => Number(m.value.sequence)).sort((a, b) => a - b);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
