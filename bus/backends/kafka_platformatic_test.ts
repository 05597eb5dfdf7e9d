// The @platformatic/kafka driver against a real broker: the shared one for
// the semantics, a private one for a broker that dies and comes back.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import process from "node:process";
import { after, describe, it } from "node:test";
import { Producer } from "@platformatic/kafka";
import { CqiError } from "@cqi/errors";
import { closedPort } from "../../tests/_util.ts";
import {
  KAFKA_BROKERS,
  kafkaInstalled,
  privateKafka,
  requireKafka,
} from "../testdata/kafka_server.ts";
import type {
  BusDriver,
  Consumption,
  IncomingRecord,
  OutgoingRecord,
} from "./driver.ts";
import type { KafkaDriverOptions } from "./kafka_options.ts";
import { platformaticDriver } from "./kafka_platformatic.ts";

const RUN = crypto.randomUUID().slice(0, 8);
let serial = 0;
const unique = (what: string) => `cqi-plt-${what}-${RUN}-${++serial}`;
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

function options(
  overrides: Partial<KafkaDriverOptions> = {},
): KafkaDriverOptions {
  return {
    brokers: KAFKA_BROKERS,
    clientId: "cqi-plt-test",
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    partitions: 3,
    sessionTimeout: 6_000,
    heartbeatInterval: 500,
    ...overrides,
  };
}

/** Records as they arrive, and promises of enough of them. */
class Inbox<T> {
  readonly items: T[] = [];
  #waiters: { ok: (items: T[]) => boolean; done: () => void }[] = [];

  push(item: T): void {
    this.items.push(item);
    for (const waiter of [...this.#waiters]) {
      if (waiter.ok(this.items)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.done();
      }
    }
  }

  /** Resolves once `ok(items)`; fails the test after `ms`. */
  until(ok: (items: T[]) => boolean, what: string, ms = 30_000) {
    if (ok(this.items)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.ok !== ok);
        reject(
          new Error(`not within ${ms} ms: ${what} (${this.items.length})`),
        );
      }, ms);
      this.#waiters.push({
        ok,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

/** A promise settled from outside. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function kindOf(error: unknown): string | undefined {
  return error instanceof CqiError ? error.kind : undefined;
}

describe("platformatic kafka driver", () => {
  const drivers: BusDriver[] = [];
  const driver = (o: Partial<KafkaDriverOptions> = {}) => {
    const d = platformaticDriver(options(o));
    drivers.push(d);
    return d;
  };
  after(async () => {
    await Promise.all(drivers.map((d) => d.close()));
  });

  it("round trip: keys, headers, values, offsets, timestamps", {
    timeout: 60_000,
  }, async (t) => {
    if (!await requireKafka(t)) return;
    const d = driver();
    const topic = unique("roundtrip");
    await d.ensureTopics([topic, topic]);
    await d.ensureTopics([topic]); // exists: fine
    const inbox = new Inbox<IncomingRecord>();
    const consumption = await d.consume(
      { group: unique("g"), topics: [topic], concurrency: 2, from: "earliest" },
      (record) => {
        inbox.push(record);
        return Promise.resolve();
      },
    );
    const before = Date.now();
    await d.publish([
      {
        topic,
        key: "k1",
        value: bytes("one"),
        headers: { a: "1", "ünï": "çödé ✓", empty: "" },
      },
      { topic, key: undefined, value: new Uint8Array(0), headers: {} },
      { topic, key: "", value: bytes("empty key"), headers: { b: "2" } },
    ]);
    // bytes that are not UTF-8, from another client
    const raw = new Producer({
      clientId: "cqi-plt-raw",
      bootstrapBrokers: KAFKA_BROKERS,
    });
    try {
      await raw.send({
        messages: [{
          topic,
          key: Buffer.from([0x6b, 0xff]),
          value: Buffer.from([1, 2, 3]),
          headers: new Map([[Buffer.from("bad"), Buffer.from([0xc3, 0x28])]]),
        }],
      });
    } finally {
      await raw.close();
    }
    await inbox.until((r) => r.length >= 4, "4 records");
    const received = Date.now();
    await consumption.close();
    await consumption.close(); // idempotent

    const byValue = new Map(inbox.items.map((r) => [text(r.value), r]));
    const one = byValue.get("one")!;
    assert.equal(one.topic, topic);
    assert.equal(one.key, "k1");
    assert.deepEqual(one.headers, { a: "1", "ünï": "çödé ✓", empty: "" });
    assert.ok(one.value instanceof Uint8Array);
    assert.match(one.offset, /^\d+$/);
    assert.ok(one.timestamp >= before - 1_000 && one.timestamp <= received);
    assert.ok(one.lag === undefined || (one.lag >= 0 && one.lag < 4));
    assert.ok(Number.isInteger(one.partition));
    const keyless = byValue.get("")!;
    assert.equal(keyless.key, undefined);
    assert.deepEqual(keyless.headers, {});
    assert.equal(keyless.value.length, 0);
    const emptyKey = byValue.get("empty key")!;
    assert.equal(emptyKey.key, "");
    assert.deepEqual(emptyKey.headers, { b: "2" });
    const bad = inbox.items.find((r) => r.headers.bad !== undefined)!;
    assert.deepEqual([...bad.value], [1, 2, 3]);
    assert.equal(bad.key, "k\ufffd");
    assert.equal(bad.headers.bad, "\ufffd(");
  });

  it("keeps per-key order with concurrency 4 over 3 partitions", {
    timeout: 60_000,
  }, async (t) => {
    if (!await requireKafka(t)) return;
    const d = driver();
    const topic = unique("order");
    await d.ensureTopics([topic]);
    const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`);
    const perKey = 25;
    const total = keys.length * perKey;
    const seen = new Map<string, number[]>();
    const partitionOf = new Map<string, Set<number>>();
    const activeKeys = new Set<string>();
    let active = 0;
    let maxActive = 0;
    const problems: string[] = [];
    const inbox = new Inbox<IncomingRecord>();
    const consumption = await d.consume(
      { group: unique("g"), topics: [topic], concurrency: 4, from: "earliest" },
      async (record) => {
        const key = record.key!;
        if (activeKeys.has(key)) problems.push(`${key} ran twice at once`);
        activeKeys.add(key);
        active++;
        maxActive = Math.max(maxActive, active);
        await pause(Math.random() * 3); // some work
        active--;
        activeKeys.delete(key);
        const [, seq] = text(record.value).split(":");
        seen.set(key, [...(seen.get(key) ?? []), Number(seq)]);
        partitionOf.set(
          key,
          (partitionOf.get(key) ?? new Set()).add(record.partition),
        );
        inbox.push(record);
      },
    );
    const records: OutgoingRecord[] = [];
    for (let seq = 0; seq < perKey; seq++) {
      for (const key of keys) {
        records.push({
          topic,
          key,
          value: bytes(`${key}:${seq}`),
          headers: {},
        });
      }
    }
    for (let i = 0; i < records.length; i += 50) {
      await d.publish(records.slice(i, i + 50));
    }
    await inbox.until((r) => r.length >= total, `${total} records`);
    await consumption.close();
    assert.deepEqual(problems, []);
    assert.ok(maxActive > 1 && maxActive <= 4, `max in flight ${maxActive}`);
    const partitions = new Set(inbox.items.map((r) => r.partition));
    assert.equal(partitions.size, 3);
    for (const key of keys) {
      assert.deepEqual(
        seen.get(key),
        Array.from({ length: perKey }, (_, i) => i),
        key,
      );
      assert.equal(partitionOf.get(key)!.size, 1);
    }
  });

  it("commits only what was handled: a closed consumer's rest comes again", {
    timeout: 60_000,
  }, async (t) => {
    if (!await requireKafka(t)) return;
    const d = driver({ partitions: 1 });
    const topic = unique("commit");
    const group = unique("g");
    await d.ensureTopics([topic]);
    await d.publish(
      Array.from({ length: 10 }, (_, i) => ({
        topic,
        key: `k${i}`,
        value: bytes(String(i)),
        headers: {},
      })),
    );
    // Offset 2 stops (its handler rejects as a stopping one does); the
    // others succeed, 3.. possibly before it: only 0 and 1 may commit.
    const blocked = deferred();
    const release = deferred();
    const first: number[] = [];
    const c1 = await d.consume(
      { group, topics: [topic], concurrency: 3, from: "earliest" },
      async (record) => {
        const offset = Number(record.offset);
        if (offset === 2) {
          blocked.resolve();
          await release.promise;
        }
        first.push(offset);
      },
    );
    await blocked.promise;
    const closing = c1.close();
    release.reject(new Error("stopping"));
    await closing;
    assert.ok(first.includes(0) && first.includes(1));
    assert.ok(!first.includes(2));

    const inbox = new Inbox<IncomingRecord>();
    const c2 = await d.consume(
      { group, topics: [topic], concurrency: 3, from: "earliest" },
      (record) => {
        inbox.push(record);
        return Promise.resolve();
      },
    );
    await inbox.until((r) => r.length >= 8, "8 records");
    await c2.close();
    const offsets = inbox.items.map((r) => Number(r.offset)).sort((a, b) =>
      a - b
    );
    assert.deepEqual(offsets, [2, 3, 4, 5, 6, 7, 8, 9]);

    // everything is committed now: a third member gets nothing old
    const late = new Inbox<IncomingRecord>();
    const c3 = await d.consume(
      { group, topics: [topic], concurrency: 1, from: "earliest" },
      (record) => {
        late.push(record);
        return Promise.resolve();
      },
    );
    await d.publish([{ topic, key: "z", value: bytes("10"), headers: {} }]);
    await late.until((r) => r.length >= 1, "the new record");
    await c3.close();
    assert.deepEqual(late.items.map((r) => r.offset), ["10"]);
  });

  it(
    "from latest: a new group starts at the end",
    { timeout: 60_000 },
    async (t) => {
      if (!await requireKafka(t)) return;
      const d = driver({ partitions: 2 });
      const topic = unique("latest");
      await d.ensureTopics([topic]);
      await d.publish([{ topic, key: "a", value: bytes("old"), headers: {} }]);
      const inbox = new Inbox<IncomingRecord>();
      const c = await d.consume(
        { group: unique("g"), topics: [topic], concurrency: 1, from: "latest" },
        (record) => {
          inbox.push(record);
          return Promise.resolve();
        },
      );
      await d.publish([{ topic, key: "a", value: bytes("new"), headers: {} }]);
      await inbox.until((r) => r.length >= 1, "the new record");
      await c.close();
      assert.deepEqual(inbox.items.map((r) => text(r.value)), ["new"]);
    },
  );

  it("two members split the partitions, never one partition at once", {
    timeout: 60_000,
  }, async (t) => {
    if (!await requireKafka(t)) return;
    const d1 = driver({ partitions: 4 });
    const d2 = driver({ partitions: 4 });
    const topic = unique("split");
    const group = unique("g");
    await d1.ensureTopics([topic]);
    // partition -> the member running one of its records, if any
    const running = new Map<number, Map<string, number>>();
    const overlaps: string[] = [];
    const handled = new Inbox<{ member: string; record: IncomingRecord }>();
    const handler = (member: string) => async (record: IncomingRecord) => {
      const owners = running.get(record.partition) ?? new Map();
      running.set(record.partition, owners);
      for (const [other, count] of owners) {
        if (other !== member && count > 0) {
          overlaps.push(`p${record.partition}: ${member} and ${other}`);
        }
      }
      owners.set(member, (owners.get(member) ?? 0) + 1);
      // work in flight when the group rebalances
      await pause(text(record.value).startsWith("one-") ? 150 : 5);
      owners.set(member, owners.get(member)! - 1);
      handled.push({ member, record });
    };
    const phase = (name: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        topic,
        key: `${name}-${i}`,
        value: bytes(`${name}-${i}`),
        headers: {},
      }));
    const a = await d1.consume(
      { group, topics: [topic], concurrency: 2, from: "earliest" },
      handler("a"),
    );
    await d1.publish(phase("one", 30));
    await handled.until((h) => h.length >= 2, "a started");
    // b joins while a has records in flight and more queued
    const b = await d2.consume(
      { group, topics: [topic], concurrency: 2, from: "earliest" },
      handler("b"),
    );
    await d1.publish(phase("two", 80));
    const values = (h: { record: IncomingRecord }[]) =>
      new Set(h.map((x) => text(x.record.value)));
    await handled.until((h) => {
      const got = values(h);
      return phase("one", 30).every((r) => got.has(text(r.value))) &&
        phase("two", 80).every((r) => got.has(text(r.value)));
    }, "all records");
    await Promise.all([a.close(), b.close()]);
    assert.deepEqual(overlaps, []);
    // records published after both joined: each partition went to one member
    const owner = new Map<number, Set<string>>();
    for (const { member, record } of handled.items) {
      if (!text(record.value).startsWith("two-")) continue;
      owner.set(
        record.partition,
        (owner.get(record.partition) ?? new Set()).add(member),
      );
    }
    assert.equal(owner.size, 4);
    for (const [p, members] of owner) assert.equal(members.size, 1, `p${p}`);
    const members = new Set([...owner.values()].flatMap((m) => [...m]));
    assert.deepEqual([...members].sort(), ["a", "b"]);
  });

  it("a handler longer than the session holds the rebalance and its member", {
    timeout: 60_000,
  }, async (t) => {
    if (!await requireKafka(t)) return;
    const sessionTimeout = 6_000; // the broker's least
    const d1 = driver({ partitions: 2, sessionTimeout });
    const d2 = driver({ partitions: 2, sessionTimeout });
    const topic = unique("long");
    const group = unique("g");
    await d1.ensureTopics([topic]);
    const blocked = deferred<IncomingRecord>();
    let slowDone = 0;
    const seen = new Inbox<{ member: string; record: IncomingRecord }>();
    const running = new Map<number, string>();
    const overlaps: string[] = [];
    const handler = (member: string) => async (record: IncomingRecord) => {
      const other = running.get(record.partition);
      if (other !== undefined && other !== member) {
        overlaps.push(`p${record.partition}: ${member} and ${other}`);
      }
      running.set(record.partition, member);
      if (text(record.value) === "slow") {
        blocked.resolve(record);
        // work that outlasts the session timeout
        await pause(sessionTimeout + 1_500);
        slowDone = Date.now();
      }
      running.delete(record.partition);
      seen.push({ member, record });
    };
    const a = await d1.consume(
      { group, topics: [topic], concurrency: 1, from: "earliest" },
      handler("a"),
    );
    await d1.publish([{ topic, key: "s", value: bytes("slow"), headers: {} }]);
    const slow = await blocked.promise;
    // b's join waits for a to finish the slow record and rejoin
    const b = await d2.consume(
      { group, topics: [topic], concurrency: 1, from: "earliest" },
      handler("b"),
    );
    assert.ok(slowDone > 0, "b joined before a finished its record");
    await d1.publish(
      Array.from({ length: 20 }, (_, i) => ({
        topic,
        key: `k${i}`,
        value: bytes(`after-${i}`),
        headers: {},
      })),
    );
    const late = (items: { member: string; record: IncomingRecord }[]) =>
      items.filter((s) => text(s.record.value).startsWith("after-"));
    await seen.until((items) => late(items).length >= 20, "20 records");
    await Promise.all([a.close(), b.close()]);
    assert.deepEqual(overlaps, []);
    // the slow record ran once: its partition did not move while it ran
    const slowRuns = seen.items.filter((s) =>
      s.record.partition === slow.partition && s.record.offset === slow.offset
    );
    assert.equal(slowRuns.length, 1);
    // and a stayed in the group: both members got partitions
    const members = new Set(late(seen.items).map((s) => s.member));
    assert.deepEqual([...members].sort(), ["a", "b"]);
  });

  it("maps a broker's refusal and ends with close()", {
    timeout: 60_000,
  }, async (t) => {
    if (!await requireKafka(t)) return;
    const d = platformaticDriver(options({ partitions: 0 }));
    await assert.rejects(d.ensureTopics([unique("zero")]), (error) => {
      assert.equal(kindOf(error), "invalid_input", String(error));
      return true;
    });
    await assert.rejects(d.ensureTopics(["bad name!"]), (error) => {
      assert.equal(kindOf(error), "invalid_input", String(error));
      return true;
    });
    await d.check();
    await Promise.all([d.close(), d.close()]);
    await d.close();
    const record = { topic: "t", key: "k", value: bytes("x"), headers: {} };
    for (
      const call of [
        () => d.publish([record]),
        () => d.ensureTopics(["t"]),
        () => d.check(),
        () =>
          d.consume(
            { group: "g", topics: ["t"], concurrency: 1, from: "earliest" },
            () => Promise.resolve(),
          ),
      ]
    ) {
      await assert.rejects(call(), (error) => {
        assert.equal(kindOf(error), "canceled");
        return true;
      });
    }
  });

  it("check() fails fast on a closed port", { timeout: 60_000 }, async () => {
    const port = await closedPort();
    const d = driver({ brokers: [`127.0.0.1:${port}`] });
    const start = performance.now();
    await assert.rejects(d.check(), (error) => {
      assert.ok(error instanceof CqiError, String(error));
      assert.ok(["temporary", "timeout"].includes(error.kind), error.kind);
      return true;
    });
    assert.ok(performance.now() - start < 3_000);
    // an aborted signal ends it at once
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(d.check(controller.signal), CqiError);
  });

  it(
    "publish to an unreachable broker fails as temporary within bounded time",
    { timeout: 60_000 },
    async () => {
      const port = await closedPort();
      const d = driver({ brokers: [`127.0.0.1:${port}`] });
      const topic = unique("nowhere");
      const start = performance.now();
      await assert.rejects(
        d.publish([{ topic, key: "k", value: bytes("x"), headers: {} }]),
        (error) => {
          assert.ok(
            ["temporary", "timeout"].includes(kindOf(error)!),
            String(error),
          );
          return true;
        },
      );
      const elapsed = performance.now() - start;
      assert.ok(elapsed < 15_000, `${elapsed} ms`);
      // and again: nothing stuck from the first failure
      await assert.rejects(
        d.publish([{ topic, key: "k", value: bytes("x"), headers: {} }]),
        CqiError,
      );
    },
  );

  it("consume() on an unreachable broker fails as a CqiError", {
    timeout: 60_000,
  }, async () => {
    const port = await closedPort();
    const d = driver({ brokers: [`127.0.0.1:${port}`] });
    await assert.rejects(
      d.consume(
        { group: unique("g"), topics: ["t"], concurrency: 1, from: "earliest" },
        () => Promise.resolve(),
      ),
      (error) => {
        assert.ok(
          ["temporary", "timeout"].includes(kindOf(error)!),
          String(error),
        );
        return true;
      },
    );
  });

  it(
    "rides out a broker that dies and comes back",
    { timeout: 120_000 },
    async (t) => {
      if (!await kafkaInstalled()) {
        t.skip("no Java/Maven for a private Kafka broker");
        return;
      }
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on("unhandledRejection", onUnhandled);
      process.on("uncaughtException", onUnhandled);
      await using broker = await privateKafka();
      const d = driver({ brokers: broker.brokers, partitions: 2 });
      try {
        const topic = unique("restart");
        await d.ensureTopics([topic]);
        const inbox = new Inbox<string>();
        const c: Consumption = await d.consume(
          {
            group: unique("g"),
            topics: [topic],
            concurrency: 2,
            from: "earliest",
          },
          (record) => {
            inbox.push(text(record.value));
            return Promise.resolve();
          },
        );
        const batch = (name: string) =>
          Array.from({ length: 5 }, (_, i) => ({
            topic,
            key: `k${i}`,
            value: bytes(`${name}-${i}`),
            headers: {},
          }));
        await d.publish(batch("before"));
        await inbox.until((v) => v.length >= 5, "records before");

        await broker.kill();
        await assert.rejects(d.check(), CqiError);
        const down = performance.now();
        await assert.rejects(d.publish(batch("down")), (error) => {
          assert.ok(
            ["temporary", "timeout"].includes(kindOf(error)!),
            String(error),
          );
          return true;
        });

        assert.ok(performance.now() - down < 15_000);

        await broker.start();
        await d.publish(batch("after"));
        await d.check();
        await inbox.until(
          (v) => batch("after").every((r) => v.includes(text(r.value))),
          "records after the restart",
          60_000,
        );
        await c.close();
      } finally {
        await d.close();
        process.off("unhandledRejection", onUnhandled);
        process.off("uncaughtException", onUnhandled);
      }
      assert.deepEqual(unhandled, []);
    },
  );
});
