// Defects a red team found in the NATS JetStream backend, each pinned by a
// test against a real server: a last delivery whose dead letter the stream
// cannot take yet is delivered again, not lost (the server's max_deliver is
// unlimited; the bus counts); a durable consumer or a stream deleted by hand,
// or lost with the server's store, is made again; credentials refused on a
// reconnect are retried, and refused handshakes never crash the process; a
// header nats.js cannot parse does not make its message vanish; two groups'
// dead letters of one event are both stored; a stream whose retention would
// drop events is refused and left as it was; bad options fail at createBus;
// keys travel exactly; close() with the server down ends within a request's
// time; rolling restarts do not dead-letter a backlog never started, and
// messages that reach a member as it closes go back to its group at once.
//
// The tests on the machine's shared server use streams of their own, deleted
// afterwards; outages and credentials use private servers.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, it } from "node:test";
import {
  DiscardPolicy,
  jetstream,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { createBus, type Message } from "@cqi/bus";
import { bytes, json } from "@cqi/codec";
import { kindOf, permanent } from "@cqi/errors";
import { rejectsWith } from "../tests/_assert.ts";
import { durableName } from "./backends/nats_consumption.ts";
import type { DeadLetterInfo } from "./deliver.ts";
import { hostPort } from "./testdata/kafka_server.ts";
import {
  NATS_SERVERS,
  privateNats,
  requireNats,
  requireNatsInstalled,
  sharedNats,
  streamNames,
} from "./testdata/nats_server.ts";

const LONG = { timeout: 60_000 };
const url = `nats://${NATS_SERVERS.join(",")}`;
const Tick = json<{ n: number }>(undefined, { name: "cqi.test.Tick" });

/** A stream name and subject root no other test uses. */
const fresh = streamNames("H");

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves as `promise` does; fails the test after `ms`, saying `what`. */
async function within<T>(promise: Promise<T>, ms: number, what: string) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: not within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` (every 20 ms) until true; fails after `ms`. */
async function until(condition: () => boolean, ms: number, what: string) {
  const end = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await delay(20);
  }
}

/**
 * Calls `attempt` every 200 ms until it resolves; fails after `ms` with the
 * kinds it rejected with. Returns those kinds (the failures before success).
 */
async function eventually(
  attempt: () => Promise<unknown>,
  ms: number,
  what: string,
): Promise<string[]> {
  const failures: string[] = [];
  const end = performance.now() + ms;
  for (;;) {
    try {
      await attempt();
      return failures;
    } catch (error) {
      failures.push(kindOf(error) ?? String(error));
    }
    if (performance.now() > end) {
      assert.fail(
        `${what}: not within ${ms} ms; failed as ${
          [...new Set(failures)].join(", ")
        }`,
      );
    }
    await delay(200);
  }
}

/** A temporary folder, removed when disposed. */
async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), "cqi-nats-hostile-"));
  return {
    path,
    [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }),
  };
}

describe("nats jetstream driver against a red team (shared server)", () => {
  const shared = sharedNats();

  /** The server's view of a durable consumer, for failure messages. */
  const state = async (stream: string, name: string) => {
    const c = await shared.jsm.consumers.info(stream, name);
    return `the consumer: ${c.num_ack_pending} acknowledgements pending, ${c.num_pending} undelivered, ${c.num_redelivered} redelivered, ${c.num_waiting} pull requests waiting`;
  };
  /** Fails with the consumer's state when `waiting` rejects (a timeout). */
  const explained = <T>(waiting: Promise<T>, stream: string, name: string) =>
    waiting.catch(async (error) =>
      assert.fail(`${error.message}; ${await state(stream, name)}`)
    );

  it(
    "dead-letters, once the stream has room, a last delivery whose letter the full stream refused when its subscription closed (r08)",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("final");
      shared.made.push(stream);
      const topic = `${root}.x`;
      const subjects = [`${root}.>`];
      // An existing stream the bus accepts, full at one message, refusing
      // more (a temporary refusal, retried).
      await shared.jsm.streams.add({
        name: stream,
        subjects,
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.New,
        max_msgs: 1,
      });
      const reports: DeadLetterInfo[] = [];
      const refused = Promise.withResolvers<void>();
      await using bus = createBus(url, {
        nats: { stream, subjects, maxDeliver: 1 },
        closeTimeout: 500,
        onDeadLetter: (info) => {
          reports.push(info);
          if (info.outcome === "failed") refused.resolve();
        },
      });
      // The durable exists, and leaves the counting to the bus.
      await (await bus.subscribe(Tick, () => {}, { topic, group: "g" }))
        .close();
      const name = durableName("g", topic);
      assert.equal(
        (await shared.jsm.consumers.info(stream, name)).config.max_deliver,
        -1,
      );
      await bus.publish(Tick, { n: 8 }, { topic, id: "evt-8" }); // full now
      // Delivery 1: a member that crashed.
      const consumer = await jetstream(shared.nc!).consumers.get(stream, name);
      const first = await consumer.next({ expires: 5_000 });
      assert.ok(first, "delivered once");
      first.nak();
      // Delivery 2 is past maxDeliver: its dead letter is refused (the
      // stream is full) and retried until the subscription closes.
      let handled = 0;
      const last = await bus.subscribe(Tick, () => void handled++, {
        topic,
        group: "g",
      });
      await within(refused.promise, 10_000, "a refused dead letter");
      assert.equal(kindOf(reports[0].error), "temporary");
      await last.close();
      // Room again: the next member dead-letters it.
      await shared.jsm.streams.update(stream, { max_msgs: 1_000 });
      const letter = Promise.withResolvers<Message<{ n: number }>>();
      await bus.subscribe(Tick, (m) => letter.resolve(m), {
        topic: `${topic}.dlq`,
        group: "dlq",
        from: "earliest",
      });
      await bus.subscribe(Tick, () => void handled++, { topic, group: "g" });
      const dead = await within(
        letter.promise,
        15_000,
        "the dead letter once the stream had room (the message was lost)",
      );
      assert.equal(dead.id, "evt-8");
      assert.equal(dead.value.n, 8);
      assert.equal(dead.headers["cqi-error-kind"], "permanent");
      assert.match(dead.headers["cqi-error-message"], /after \d+ deliveries/);
      assert.equal(handled, 0, "never handled past maxDeliver");
      await until(
        () => reports.some((r) => r.outcome === "sent"),
        5_000,
        "the sent report",
      );
      // Terminated: not pending, not delivered again.
      const end = performance.now() + 5_000;
      while (
        (await shared.jsm.consumers.info(stream, name)).num_ack_pending > 0
      ) {
        assert.ok(performance.now() < end, "terminated within 5 s");
        await delay(50);
      }
      assert.equal(handled, 0);
    },
  );

  it(
    "makes a durable consumer deleted by hand again, and goes on receiving (r13)",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("nodurable");
      shared.made.push(stream);
      const topic = `${root}.x`;
      await using bus = createBus(url, {
        nats: { stream, subjects: [`${root}.>`] },
      });
      const got: number[] = [];
      await bus.subscribe(Tick, (m) => void got.push(m.value.n), {
        topic,
        group: "g",
      });
      await bus.publish(Tick, { n: 1 }, { topic });
      await until(() => got.includes(1), 10_000, "the first event");
      const name = durableName("g", topic);
      await shared.jsm.consumers.delete(stream, name);
      await bus.publish(Tick, { n: 2 }, { topic });
      await until(
        () => got.includes(2),
        15_000,
        "an event published as the consumer was deleted",
      );
      assert.equal((await shared.jsm.consumers.info(stream, name)).name, name);
      await bus.publish(Tick, { n: 3 }, { topic });
      await until(() => got.includes(3), 10_000, "a later event");
      // Resumed at the group's acknowledgement floor as last read: an event
      // may come twice, none is skipped.
      assert.deepEqual([...new Set(got)].sort(), [1, 2, 3]);
    },
  );

  it(
    "subscribes with a backoff, which reaches the server (round 2: every subscribe with a backoff failed)",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("backoff");
      shared.made.push(stream);
      const topic = `${root}.x`;
      await using bus = createBus(url, {
        nats: { stream, subjects: [`${root}.>`], backoff: [200, 400] },
      });
      const got = Promise.withResolvers<number>();
      await bus.subscribe(Tick, (m) => got.resolve(m.value.n), {
        topic,
        group: "g",
      });
      await bus.publish(Tick, { n: 4 }, { topic });
      assert.equal(await within(got.promise, 10_000, "the event"), 4);
      const info = await shared.jsm.consumers.info(
        stream,
        durableName("g", topic),
      );
      assert.deepEqual(info.config.backoff, [200e6, 400e6]);
      assert.ok((info.config.max_deliver ?? 0) > 1_000_000, "the bus counts");
    },
  );

  it(
    "makes the consumer again from the start of a stream made again, skipping none of its events (round 2)",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("restream");
      shared.made.push(stream);
      const topic = `${root}.x`;
      await using bus = createBus(url, {
        nats: { stream, subjects: [`${root}.>`] },
      });
      const got = new Set<number>();
      await bus.subscribe(Tick, (m) => void got.add(m.value.n), {
        topic,
        group: "g",
      });
      for (let n = 1; n <= 20; n++) await bus.publish(Tick, { n }, { topic });
      await until(() => got.size === 20, 10_000, "the first 20");
      await shared.jsm.streams.delete(stream);
      const deleted = Date.now();
      // Publishes fail until one makes the stream again (its sequences
      // start at 1 again); then more go to it.
      await eventually(
        () => bus.publish(Tick, { n: 101 }, { topic }),
        10_000,
        "a publish to the stream made again",
      );
      // Not at once: NATS 2.9.10 removed the old stream's files after
      // answering the deletion, with the blocks of a stream made again
      // within milliseconds; its events, acknowledged, were never delivered
      // (the server logged "open .../msgs/1.blk: no such file").
      const remade = Date.parse(
        (await shared.jsm.streams.info(stream)).created,
      );
      assert.ok(
        remade - deleted >= 900,
        `made again ${remade - deleted} ms after the deletion`,
      );
      for (let n = 102; n <= 110; n++) {
        await bus.publish(Tick, { n }, { topic });
      }
      await explained(
        until(
          () => [...Array(10).keys()].every((i) => got.has(101 + i)),
          20_000,
          "every event of the new stream",
        ),
        stream,
        durableName("g", topic),
      );
    },
  );

  it(
    "fails the publish after its stream was deleted by hand as temporary, then makes the stream again; so does check() (r13)",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("nostream");
      shared.made.push(stream);
      const topic = `${root}.x`;
      const subjects = [`${root}.>`];
      await using bus = createBus(url, {
        nats: { stream, subjects },
        publishTimeout: 3_000,
      });
      await bus.publish(Tick, { n: 1 }, { topic });
      await shared.jsm.streams.delete(stream);
      await rejectsWith(bus.publish(Tick, { n: 2 }, { topic }), "temporary");
      const failures = await eventually(
        () => bus.publish(Tick, { n: 3 }, { topic }),
        10_000,
        "a publish after the stream was deleted",
      );
      for (const kind of failures) assert.equal(kind, "temporary");
      const again = await shared.jsm.streams.info(stream);
      assert.deepEqual(again.config.subjects, subjects);
      assert.equal(again.config.storage, StorageType.File);
      assert.equal(again.state.messages, 1, "the event published after");
      // Readiness makes it again too.
      await shared.jsm.streams.delete(stream);
      await bus.check();
      assert.deepEqual(
        (await shared.jsm.streams.info(stream)).config.subjects,
        subjects,
      );
      await bus.publish(Tick, { n: 4 }, { topic });
    },
  );

  it(
    "hands over, or dead-letters, a message whose header nats.js cannot parse, and goes on (r05)",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("badheader");
      shared.made.push(stream);
      const topic = `${root}.x`;
      const reports: DeadLetterInfo[] = [];
      await using bus = createBus(url, {
        nats: { stream, subjects: [`${root}.>`] },
        onDeadLetter: (info) => void reports.push(info),
      });
      const handled: Message<Uint8Array>[] = [];
      const letters: Message<Uint8Array>[] = [];
      await bus.subscribe(bytes, (m) => void letters.push(m), {
        topic: `${topic}.dlq`,
        group: "dlq",
        from: "earliest",
        deadLetter: false,
      });
      await bus.subscribe(bytes, (m) => void handled.push(m), {
        topic,
        group: "g",
        from: "earliest",
      });
      // A raw producer: a header name with a space, which the server stores
      // as sent and nats.js refuses to parse.
      const header = "NATS/1.0\r\nx-trace id: 1\r\n\r\n";
      const size = Buffer.byteLength(header);
      const { host, port } = hostPort(NATS_SERVERS[0]);
      await new Promise<void>((resolve, reject) => {
        const socket = tcpConnect(port, host);
        let text = "";
        socket.on("data", (chunk) => {
          text += String(chunk);
          if (text.includes("PONG")) {
            socket.destroy();
            resolve();
          } else if (text.includes("-ERR")) {
            socket.destroy();
            reject(new Error(`the server said ${text}`));
          }
        });
        socket.once("error", reject);
        socket.write('CONNECT {"verbose":false,"headers":true}\r\n');
        socket.write(
          `HPUB ${topic} ${size} ${size + 5}\r\n${header}hello\r\nPING\r\n`,
        );
      });
      await bus.publish(bytes, new TextEncoder().encode("next"), { topic });
      await until(
        () => handled.length + letters.length >= 2,
        10_000,
        `both messages (handled ${handled.length}, dead-lettered ${letters.length})`,
      );
      const decode = (m: Message<Uint8Array>) =>
        new TextDecoder().decode(m.value);
      // Handed over, its headers unreadable and so empty.
      assert.deepEqual(handled.map(decode), ["hello", "next"]);
      assert.deepEqual(Object.keys(handled[0].headers), []);
      assert.deepEqual(letters, []);
      assert.deepEqual(reports, []);
    },
  );

  it(
    "stores the dead letter of each group that failed one event (r06)",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("twogroups");
      shared.made.push(stream);
      const topic = `${root}.x`;
      const reports: DeadLetterInfo[] = [];
      await using bus = createBus(url, {
        nats: { stream, subjects: [`${root}.>`] },
        onDeadLetter: (info) => void reports.push(info),
      });
      for (const group of ["billing", "audit"]) {
        await bus.subscribe(Tick, () => {
          throw permanent("no");
        }, { group, topic });
      }
      const letters: Message<{ n: number }>[] = [];
      await bus.subscribe(Tick, (m) => void letters.push(m), {
        topic: `${topic}.dlq`,
        group: "ops",
        from: "earliest",
        deadLetter: false,
      });
      await bus.publish(Tick, { n: 1 }, { topic, id: "evt-6" });
      await until(
        () => reports.filter((r) => r.outcome === "sent").length === 2,
        10_000,
        "two dead letters sent",
      );
      await until(() => letters.length >= 2, 10_000, "two dead letters stored");
      assert.deepEqual(
        letters.map((m) => m.headers["cqi-group"]).sort(),
        ["audit", "billing"],
      );
      assert.deepEqual(letters.map((m) => m.id), ["evt-6", "evt-6"]);
      const info = await shared.jsm.streams.info(stream);
      assert.equal(info.state.messages, 3, "the event and two letters");
    },
  );

  it(
    "refuses an existing stream of interest or workqueue retention as permanent, naming it, and leaves it as it was (r12)",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      for (
        const retention of [RetentionPolicy.Interest, RetentionPolicy.Workqueue]
      ) {
        const { stream, root } = fresh(retention);
        shared.made.push(stream);
        const topic = `${root}.x`;
        const subjects = [`${root}.>`];
        await shared.jsm.streams.add({
          name: stream,
          subjects,
          storage: StorageType.File,
          retention,
        });
        const before = await shared.jsm.streams.info(stream);
        await using bus = createBus(url, {
          nats: { stream, subjects: [...subjects, `${root}2.>`] },
        });
        const named = new RegExp(`${retention} retention`);
        await rejectsWith(
          bus.publish(Tick, { n: 1 }, { topic }),
          "permanent",
          named,
        );
        await rejectsWith(
          bus.subscribe(Tick, () => {}, { topic, group: "g" }),
          "permanent",
          named,
        );
        const now = await shared.jsm.streams.info(stream);
        assert.deepEqual(now.config, before.config, retention);
        assert.equal(now.state.messages, 0, retention);
        assert.equal(now.state.consumer_count, 0, retention);
      }
    },
  );

  it(
    "refuses bad nats options at createBus with a TypeError; maxAge alone shortens the duplicate window (r14, r12c)",
    LONG,
    async (t) => {
      const { stream, root } = fresh("options");
      const subjects = [`${root}.>`];
      for (
        const nats of [
          "str",
          null,
          [1],
          { stream, subjects, maxAge: 50 },
          { stream, subjects, maxAge: 60_000, duplicateWindow: 120_000 },
          { stream, subjects, ackWait: 10 },
        ]
      ) {
        assert.throws(
          () => createBus(url, { nats: nats as never }),
          TypeError,
          JSON.stringify(nats),
        );
      }
      if (!await requireNats(t)) return;
      shared.made.push(stream);
      await using bus = createBus(url, {
        nats: { stream, subjects, maxAge: 60_000 },
      });
      await bus.publish(Tick, { n: 1 }, { topic: `${root}.x` });
      const { config } = await shared.jsm.streams.info(stream);
      assert.equal(config.max_age, 60_000 * 1e6);
      assert.ok(
        config.duplicate_window <= config.max_age,
        `duplicate_window ${config.duplicate_window} > max_age ${config.max_age}`,
      );
    },
  );

  it(
    "delivers a key with spaces at its ends, a line break, non-ASCII text or percent signs exactly; refuses a header value with a space at an end (r21)",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("keys");
      shared.made.push(stream);
      const topic = `${root}.x`;
      await using bus = createBus(url, {
        nats: { stream, subjects: [`${root}.>`] },
      });
      const keys = [
        " acct-1 ",
        "\tline\r\nbreak\n",
        "ключ ✓ 🎉 ",
        "100% %41 %zz",
      ];
      const got: (string | undefined)[] = [];
      const headers: string[] = [];
      await bus.subscribe(Tick, (m) => {
        got.push(m.key);
        headers.push(m.headers["x-h"]);
      }, { topic, group: "g", from: "earliest" });
      for (const [n, key] of keys.entries()) {
        await bus.publish(Tick, { n }, {
          topic,
          key,
          headers: { "x-h": "a  b" },
        });
      }
      await until(() => got.length >= keys.length, 10_000, "every event");
      assert.deepEqual(got.sort(), [...keys].sort());
      assert.deepEqual(headers, keys.map(() => "a  b"));
      for (const value of [" v", "v ", "\tv", "v\t"]) {
        await rejectsWith(
          bus.publish(Tick, { n: 9 }, { topic, headers: { "x-h": value } }),
          "invalid_input",
        );
      }
      await rejectsWith(
        bus.publish(Tick, { n: 9 }, { topic, key: "\ud800" }),
        "invalid_input",
      );
    },
  );

  it(
    "does not dead-letter a backlog never started across rolling restarts of one member (r07)",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("rolling");
      shared.made.push(stream);
      const topic = `${root}.x`;
      const nats = { stream, subjects: [`${root}.>`] }; // maxDeliver: 10
      const reports: DeadLetterInfo[] = [];
      const open = () =>
        createBus(url, {
          nats,
          onDeadLetter: (info) => void reports.push(info),
        });
      {
        await using publisher = open();
        for (let n = 0; n < 10; n++) {
          await publisher.publish(Tick, { n }, { topic });
        }
      }
      const handled = new Set<number>();
      for (let round = 0; round < 5; round++) {
        await using member = open(); // closed below; disposed if the round fails
        const started = Promise.withResolvers<void>();
        await member.subscribe(Tick, async (m) => {
          started.resolve();
          await delay(300);
          handled.add(m.value.n);
        }, { topic, group: "g", concurrency: 1, from: "earliest" });
        await explained(
          within(started.promise, 10_000, `round ${round}'s handler`),
          stream,
          durableName("g", topic),
        );
        await member.close(); // a deploy: finishes its one handler
      }
      assert.equal(handled.size, 5, "one handled each round");
      await using bus = open();
      const letters: Message<{ n: number }>[] = [];
      await bus.subscribe(Tick, (m) => void letters.push(m), {
        topic: `${topic}.dlq`,
        group: "ops",
        from: "earliest",
        deadLetter: false,
      });
      await bus.subscribe(Tick, (m) => void handled.add(m.value.n), {
        topic,
        group: "g",
        concurrency: 1,
      });
      await explained(
        until(
          () => handled.size === 10 || letters.length > 0,
          15_000,
          "every event handled",
        ),
        stream,
        durableName("g", topic),
      );
      assert.deepEqual(
        letters.map((m) => `${m.value.n}: ${m.headers["cqi-error-message"]}`),
        [],
      );
      assert.deepEqual(reports, []);
      assert.equal(handled.size, 10);
    },
  );

  it(
    "returns to its group the messages that reach a member as it closes, rather than leaving them to ackWait (found with r07)",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("inflight");
      shared.made.push(stream);
      const topic = `${root}.x`;
      const nats = { stream, subjects: [`${root}.>`] }; // ackWait: 30 s
      await using publisher = createBus(url, { nats });
      await using member = createBus(url, { nats }); // closed below
      const seen = new Set<number>();
      const started = Promise.withResolvers<void>();
      const subscription = await member.subscribe(Tick, async (m) => {
        seen.add(m.value.n);
        started.resolve();
        await delay(100);
      }, { topic, group: "g", concurrency: 1 });
      // Events keep coming while the member closes after its first one.
      const total = 200;
      const published = Array.from(
        { length: total },
        (_, n) => publisher.publish(Tick, { n }, { topic }),
      );
      await within(started.promise, 10_000, "the first handler");
      await subscription.close();
      await member.close();
      await Promise.all(published);
      await using next = createBus(url, { nats });
      await next.subscribe(Tick, (m) => void seen.add(m.value.n), {
        topic,
        group: "g",
        concurrency: 64,
      });
      await explained(
        until(
          () => seen.size === total,
          10_000,
          `every event with the next member (${total} published)`,
        ),
        stream,
        durableName("g", topic),
      ).catch((error) =>
        assert.fail(`${error.message}; received ${seen.size}`)
      );
    },
  );
});

describe("nats jetstream driver against a red team (private servers)", () => {
  it(
    "recreates the stream and the consumer when the server comes back without its store (r13b)",
    LONG,
    async (t) => {
      if (!await requireNatsInstalled(t)) return;
      await using server = await privateNats();
      const topic = "cqi.test.lost";
      await using bus = createBus(server.url, {
        nats: { stream: "LOST", subjects: ["cqi.test.>"] },
        publishTimeout: 3_000,
        requestTimeout: 1_000,
        connectionTimeout: 1_000,
      });
      const got: number[] = [];
      await bus.subscribe(Tick, (m) => void got.push(m.value.n), {
        topic,
        group: "g",
      });
      await bus.publish(Tick, { n: 1 }, { topic });
      await until(() => got.includes(1), 10_000, "the first event");
      await server.kill();
      for (const entry of await readdir(server.dir)) {
        await rm(join(server.dir, entry), { recursive: true, force: true });
      }
      await server.start();
      const failures = await eventually(
        () => bus.publish(Tick, { n: 2 }, { topic }),
        15_000,
        "a publish after the store was lost",
      );
      for (const kind of failures) {
        assert.ok(["temporary", "timeout"].includes(kind), kind);
      }
      for (let n = 3; n <= 5; n++) await bus.publish(Tick, { n }, { topic });
      await until(
        () => [2, 3, 4, 5].every((n) => got.includes(n)),
        15_000,
        `the events published after the restart (received ${got})`,
      );
      await bus.check();
    },
  );

  it(
    "retries credentials refused on a reconnect, and works again once they are accepted (r01)",
    LONG,
    async (t) => {
      if (!await requireNatsInstalled(t)) return;
      // The server reads its password from a file, rewritten between
      // restarts on the same port and store.
      await using conf = await tempDir();
      const file = join(conf.path, "auth.conf");
      const password = (p: string) =>
        writeFile(
          file,
          `authorization {\n  user: "svc"\n  password: "${p}"\n}\n`,
        );
      await password("r1ght-pass");
      await using server = await privateNats({ args: ["-c", file] });
      const address = server.url.slice("nats://".length);
      const topic = "cqi.test.auth";
      await using bus = createBus(`nats://svc:r1ght-pass@${address}`, {
        nats: { stream: "AUTH", subjects: ["cqi.test.>"], ackWait: 1_500 },
        requestTimeout: 1_000,
        connectionTimeout: 1_000,
        closeTimeout: 500,
      });
      const got: number[] = [];
      const release = Promise.withResolvers<void>();
      const holding = Promise.withResolvers<void>();
      await bus.subscribe(Tick, async (m) => {
        if (m.value.n === 0) {
          holding.resolve(); // held through the outage: working() runs
          await release.promise;
        }
        got.push(m.value.n);
      }, { topic, group: "g", concurrency: 2 });
      await bus.publish(Tick, { n: 0 }, { topic, key: "held" });
      await bus.publish(Tick, { n: 1 }, { topic, key: "k" });
      await within(holding.promise, 10_000, "the held message");
      await until(() => got.includes(1), 10_000, "the first event");

      // The password changes under the running bus.
      await server.kill();
      await password("r0tated-pass");
      await server.start();
      const violations = () =>
        server.output.filter((l) =>
          /authentication error|authorization violation/i.test(l)
        )
          .length;
      await until(
        () => violations() >= 3,
        15_000,
        "three refused reconnects",
      );
      for (let i = 0; i < 3; i++) {
        const error = await bus.check().then(
          () => assert.fail("check() passed while refused"),
          (e) => e,
        );
        assert.ok(
          ["temporary", "unauthorized", "timeout"].includes(kindOf(error)!),
          `check() failed as ${kindOf(error)}`,
        );
      }
      assert.ok(violations() >= 3);

      // The right password again: the same bus works.
      await server.kill();
      await password("r1ght-pass");
      await server.start();
      await eventually(
        () => bus.check(),
        20_000,
        "check() once the password is accepted",
      );
      await bus.publish(Tick, { n: 2 }, { topic, key: "k" });
      await until(() => got.includes(2), 10_000, "an event after");
      release.resolve();
      await until(() => got.includes(0), 10_000, "the held event");
    },
  );

  it(
    "survives 20 refused handshakes in a row: each check() unauthorized, no uncaught socket error (r03)",
    LONG,
    async (t) => {
      if (!await requireNatsInstalled(t)) return;
      await using server = await privateNats({
        args: ["--user", "svc", "--pass", "r1ght-pass"],
      });
      const address = server.url.slice("nats://".length);
      // Deno reports a socket's reset after nats.js dropped its listeners:
      // an uncaught error, which ends a process (deno run; deno test lets
      // it pass unless someone listens).
      const uncaught: unknown[] = [];
      const listener = (error: unknown) => void uncaught.push(error);
      process.on("uncaughtException", listener);
      try {
        for (let i = 0; i < 20; i++) {
          const bus = createBus(`nats://svc:wr0ng-pass@${address}`, {
            nats: { stream: "NEVER", subjects: ["cqi.never.>"] },
            connectionTimeout: 2_000,
          });
          await rejectsWith(bus.check(), "unauthorized");
          await bus.close();
          await delay(100); // a late socket error surfaces meanwhile
        }
        await delay(200);
      } finally {
        process.off("uncaughtException", listener);
      }
      assert.deepEqual(uncaught.map(String), []);
    },
  );

  it(
    "closes within a request's time while the server is down (r10)",
    LONG,
    async (t) => {
      if (!await requireNatsInstalled(t)) return;
      await using server = await privateNats();
      const topic = "cqi.test.down";
      await using bus = createBus(server.url, {
        nats: { stream: "DOWN", subjects: ["cqi.test.>"] },
        requestTimeout: 1_000,
        connectionTimeout: 1_000,
        closeTimeout: 500,
      });
      const got = Promise.withResolvers<void>();
      await bus.subscribe(Tick, () => got.resolve(), { topic, group: "g" });
      await bus.publish(Tick, { n: 1 }, { topic });
      await within(got.promise, 10_000, "the event");
      await server.kill();
      const start = performance.now();
      await within(bus.close(), 30_000, "close() with the server down");
      const took = performance.now() - start;
      assert.ok(took < 3_000, `close() took ${Math.round(took)} ms`);
    },
  );
});
