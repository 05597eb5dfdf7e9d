// The NATS JetStream backend against the machine's server: the stream is
// created once, widened but never recreated or shrunk by default; topics
// outside it, and headers NATS cannot carry, are refused as invalid_input; a
// repeated event id is stored once; a message held past the acknowledgement
// deadline is not delivered twice; one delivered past max_deliver is dead-
// lettered unhandled and terminated; foreign records (raw publishers) are
// read defensively. Every stream is the test's own and deleted afterwards.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { headers } from "@nats-io/transport-node";
import { jetstream, StorageType } from "@nats-io/jetstream";
import { createBus, type Message } from "@cqi/bus";
import { bytes, json } from "@cqi/codec";
import { loadConfig } from "@cqi/config";
import { CqiError, permanent } from "@cqi/errors";
import { rejectsWith } from "../../tests/_assert.ts";
import {
  NATS_SERVERS,
  privateNats,
  requireNats,
  requireNatsInstalled,
  sharedNats,
  streamNames,
} from "../testdata/nats_server.ts";
import { durableName } from "./nats_consumption.ts";

const LONG = { timeout: 60_000 };
const url = `nats://${NATS_SERVERS.join(",")}`;
const Tick = json<{ n: number }>(undefined, { name: "cqi.test.Tick" });

/** A stream name and subject root no other test uses. */
const fresh = streamNames("T");

describe("nats jetstream driver", () => {
  const shared = sharedNats();

  it(
    "creates the stream once with file storage, widens it, never shrinks its limits",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("create");
      shared.made.push(stream);
      {
        await using bus = createBus(url, {
          nats: { stream, subjects: [`${root}.a.>`] },
        });
        await bus.publish(Tick, { n: 1 }, { topic: `${root}.a.x` });
      }
      const first = (await shared.jsm.streams.info(stream)).config;
      assert.equal(first.storage, StorageType.File);
      assert.deepEqual(first.subjects, [`${root}.a.>`]);
      assert.equal(first.max_age, 7 * 24 * 3_600 * 1e9);
      assert.equal(first.duplicate_window, 120 * 1e9);
      // Another service with other subjects and no limits: subjects are
      // added, the limits stay.
      await shared.jsm.streams.update(stream, { max_age: 3_600 * 1e9 });
      {
        await using bus = createBus(url, {
          nats: { stream, subjects: [`${root}.b.>`] },
        });
        await bus.publish(Tick, { n: 2 }, { topic: `${root}.b.x` });
      }
      const second = await shared.jsm.streams.info(stream);
      assert.deepEqual(second.config.subjects, [`${root}.a.>`, `${root}.b.>`]);
      assert.equal(second.config.max_age, 3_600 * 1e9);
      assert.equal(second.state.messages, 2, "nothing was lost");
      // A configured limit is applied.
      {
        await using bus = createBus(url, {
          nats: { stream, subjects: [`${root}.a.>`], maxMessages: 1_000 },
        });
        await bus.publish(Tick, { n: 3 }, { topic: `${root}.a.y` });
      }
      assert.equal(
        (await shared.jsm.streams.info(stream)).config.max_msgs,
        1_000,
      );
    },
  );

  it(
    "never replaces a stream of memory storage: a permanent error says why",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("memory");
      shared.made.push(stream);
      await shared.jsm.streams.add({
        name: stream,
        subjects: [`${root}.>`],
        storage: StorageType.Memory,
      });
      await using bus = createBus(url, {
        nats: { stream, subjects: [`${root}.>`] },
      });
      const error = await rejectsWith(
        bus.publish(Tick, { n: 1 }, { topic: `${root}.x` }),
        "permanent",
      );
      assert.match(error.message, /memory storage, not file/);
      assert.equal(
        (await shared.jsm.streams.info(stream)).config.storage,
        StorageType.Memory,
      );
    },
  );

  it(
    "refuses topics outside the stream and headers NATS cannot carry",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("refuse");
      shared.made.push(stream);
      await using bus = createBus(url, {
        nats: { stream, subjects: [`${root}.>`] },
      });
      const outside = await rejectsWith(
        bus.publish(Tick, { n: 1 }, { topic: "cqi.elsewhere.x" }),
        "invalid_input",
      );
      assert.match(outside.message, /not a subject of the stream/);
      await rejectsWith(
        bus.subscribe(Tick, () => {}, { topic: "cqi.elsewhere.x", group: "g" }),
        "invalid_input",
      );
      const topic = `${root}.x`;
      for (
        const headers of [
          { "Nats-Expected-Stream": "other" },
          { "bad name": "v" },
          { "x-ok": "line\r\nbreak" },
        ] as Record<string, string>[]
      ) {
        await rejectsWith(
          bus.publish(Tick, { n: 1 }, { topic, headers }),
          "invalid_input",
        );
      }
      await rejectsWith(
        bus.publish(Tick, { n: 1 }, { topic, headers: { "x-pad": " v" } }),
        "invalid_input",
      );
      // A good call in the same batch as bad ones still goes.
      const [bad, good] = await Promise.allSettled([
        bus.publish(Tick, { n: 1 }, { topic, headers: { "Nats-Msg-Id": "x" } }),
        bus.publish(Tick, { n: 2 }, { topic }),
      ]);
      assert.equal(bad.status, "rejected");
      assert.equal(good.status, "fulfilled");
    },
  );

  it(
    "stores a repeated event id once; the dead letter of an event is not taken for it",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("dedupe");
      shared.made.push(stream);
      await using bus = createBus(url, {
        nats: { stream, subjects: [`${root}.>`] },
      });
      const topic = `${root}.x`;
      const one = await bus.publish(Tick, { n: 1 }, { topic, id: "evt-1" });
      const again = await bus.publish(Tick, { n: 1 }, { topic, id: "evt-1" });
      assert.equal(one.id, again.id);
      assert.equal((await shared.jsm.streams.info(stream)).state.messages, 1);
      const letters: Message<{ n: number }>[] = [];
      const lettered = Promise.withResolvers<void>();
      await bus.subscribe(Tick, (m) => {
        letters.push(m);
        lettered.resolve();
      }, { topic: `${topic}.dlq`, group: "dlq", from: "earliest" });
      await bus.subscribe(Tick, () => {
        throw permanent("no");
      }, { topic, group: "g", from: "earliest" });
      await lettered.promise;
      assert.equal(letters[0].id, "evt-1");
      assert.equal(letters[0].headers["cqi-error-kind"], "permanent");
    },
  );

  it(
    "keeps a message held past ack_wait from redelivery while its handler runs",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("working");
      shared.made.push(stream);
      await using bus = createBus(url, {
        nats: { stream, subjects: [`${root}.>`], ackWait: 300 },
      });
      const topic = `${root}.x`;
      const deliveries: number[] = [];
      const done = Promise.withResolvers<void>();
      await bus.subscribe(Tick, async (m) => {
        deliveries.push(m.value.n);
        await new Promise((r) => setTimeout(r, 1_200)); // four deadlines
        done.resolve();
      }, { topic, group: "g" });
      await bus.publish(Tick, { n: 1 }, { topic });
      await done.promise;
      await bus.close();
      assert.deepEqual(deliveries, [1]);
      const info = await shared.jsm.consumers.info(
        stream,
        durableName("g", topic),
      );
      assert.equal(info.num_redelivered, 0);
      assert.equal(info.num_ack_pending, 0);
    },
  );

  it(
    "dead-letters a message delivered past max_deliver without handling it, and terminates it",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("exhausted");
      shared.made.push(stream);
      const topic = `${root}.x`;
      const nats = { stream, subjects: [`${root}.>`], maxDeliver: 2 };
      await using bus = createBus(url, { nats });
      // The durable exists (closed at once), then a crashing member takes the
      // message twice without acknowledging it.
      await (await bus.subscribe(Tick, () => {}, { topic, group: "g" }))
        .close();
      await bus.publish(Tick, { n: 7 }, { topic, id: "evt-7" });
      const js = jetstream(shared.nc!);
      const consumer = await js.consumers.get(stream, durableName("g", topic));
      for (let i = 0; i < 2; i++) {
        const m = await consumer.next({ expires: 5_000 });
        assert.ok(m, "delivered");
        m.nak();
      }
      const letter = Promise.withResolvers<Message<{ n: number }>>();
      await bus.subscribe(Tick, (m) => letter.resolve(m), {
        topic: `${topic}.dlq`,
        group: "dlq",
        from: "earliest",
      });
      let handled = 0;
      await bus.subscribe(Tick, () => void handled++, { topic, group: "g" });
      const dead = await letter.promise;
      assert.equal(dead.id, "evt-7");
      assert.equal(dead.headers["cqi-error-kind"], "permanent");
      assert.match(dead.headers["cqi-error-message"], /after 2 deliveries/);
      assert.equal(handled, 0);
      // Terminated just after the letter went: not pending, not redelivered.
      const name = durableName("g", topic);
      const end = Date.now() + 5_000;
      while (
        (await shared.jsm.consumers.info(stream, name)).num_ack_pending > 0
      ) {
        assert.ok(Date.now() < end, "terminated within 5 s");
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(handled, 0);
    },
  );

  it(
    "reads foreign records defensively: no headers, server headers, odd names",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("foreign");
      shared.made.push(stream);
      const topic = `${root}.x`;
      await using bus = createBus(url, {
        nats: { stream, subjects: [`${root}.>`] },
      });
      const got: Message<unknown>[] = [];
      const letters: Message<unknown>[] = [];
      const all = Promise.withResolvers<void>();
      const check = () => got.length + letters.length === 3 && all.resolve();
      await bus.subscribe(bytes, (m) => {
        letters.push(m);
        check();
      }, { topic: `${topic}.dlq`, group: "dlq", from: "earliest" });
      await bus.subscribe(Tick, (m) => {
        got.push(m);
        check();
      }, { topic, group: "g", from: "earliest" });
      const js = jetstream(shared.nc!);
      // A valid JSON event with no headers at all.
      await js.publish(topic, new TextEncoder().encode('{"n":1}'));
      // Server and odd headers, a key, and a valid body.
      const h = headers();
      h.set("Nats-Expected-Stream", stream);
      h.set("cqi-key", "acct-9");
      h.set("__proto__", "x");
      h.set("constructor", "y");
      await js.publish(topic, new TextEncoder().encode('{"n":2}'), {
        headers: h,
      });
      // Garbage: dead-lettered, without the server's headers.
      const g = headers();
      g.set("Nats-Msg-Id", "raw-1"); // a dead letter with it would be dropped
      await js.publish(topic, new Uint8Array([0xff, 0x00]), { headers: g });
      await all.promise;
      const byN = new Map(got.map((m) => [(m.value as { n: number }).n, m]));
      assert.equal(byN.get(1)?.key, undefined);
      const second = byN.get(2)!;
      assert.equal(second.key, "acct-9");
      assert.equal(Object.getPrototypeOf(second.headers), Object.prototype);
      assert.equal(second.headers["__proto__"], "x");
      assert.equal(second.headers["cqi-key"], undefined);
      assert.ok(
        !Object.keys(second.headers).some((k) => /^nats-/i.test(k)),
        "no server headers",
      );
      assert.equal(letters.length, 1);
      assert.ok(
        !Object.keys(letters[0].headers).some((k) => /^nats-/i.test(k)),
        "the dead letter carries no server header",
      );
      assert.equal(letters[0].headers["cqi-error-kind"], "invalid_input");
    },
  );

  it(
    "runs from the config's eventBus section, loaded from the environment",
    LONG,
    async (t) => {
      if (!await requireNats(t)) return;
      const { stream, root } = fresh("config");
      shared.made.push(stream);
      const config = await loadConfig({
        env: {
          CQI_SERVICE_NAME: "cqpm",
          CQI_EVENT_BUS_BACKEND: "nats",
          CQI_EVENT_BUS_BROKERS: NATS_SERVERS.join(","),
          CQI_EVENT_BUS_CONSUMER_GROUP: "cqpm-workers",
          CQI_EVENT_BUS_STREAM: stream,
          CQI_EVENT_BUS_SUBJECTS: `${root}.>`,
          CQI_EVENT_BUS_MAX_AGE: "1h",
          CQI_EVENT_BUS_MAX_DELIVER: "3",
          CQI_EVENT_BUS_ACK_WAIT: "10s",
        },
        envFile: false,
      });
      await using bus = createBus(config.eventBus, { service: config.service });
      const topic = `${root}.x`;
      const got = Promise.withResolvers<Message<{ n: number }>>();
      await bus.subscribe(Tick, (m) => got.resolve(m), { topic });
      await bus.publish(Tick, { n: 5 }, { topic });
      const message = await got.promise;
      assert.equal(message.group, "cqpm-workers");
      assert.equal(message.headers.ce_source, "cqpm");
      const info = await shared.jsm.streams.info(stream);
      assert.equal(info.config.max_age, 3_600 * 1e9);
      const consumer = await shared.jsm.consumers.info(
        stream,
        durableName("cqpm-workers", topic),
      );
      assert.equal(consumer.config.max_deliver, -1); // the bus counts: 3
      assert.equal(consumer.config.ack_wait, 10 * 1e9);
    },
  );

  it("refuses bad settings at createBus with a TypeError naming them", () => {
    for (
      const nats of [
        { stream: "a.b" },
        { subjects: [] },
        { subjects: ["a.>.b"] },
        { maxDeliver: 0 },
        { maxDeliver: 2, backoff: [1, 2, 3] },
        { ackWait: -1 },
        { replicas: 6 },
        { maxAge: Number.NaN },
        { username: "" },
      ]
    ) {
      assert.throws(
        () => createBus(url, { nats: nats as never }),
        (e: Error) => e instanceof TypeError && /nats/.test(e.message),
        JSON.stringify(nats),
      );
    }
    assert.ok(!(new TypeError("x") instanceof CqiError));
  });
});

describe("nats jetstream driver, with credentials", () => {
  it(
    "connects with a token or a user's password from the URL or the options; a refusal is unauthorized and never repeats them",
    LONG,
    async (t) => {
      if (!await requireNatsInstalled(t)) return;
      const nats = { stream: "AUTH", subjects: ["cqi.test.>"] };
      const topic = "cqi.test.auth";
      {
        await using server = await privateNats({
          args: ["--auth", "t0ken-s3cret"],
        });
        const address = server.url.slice("nats://".length);
        await using good = createBus(`nats://t0ken-s3cret@${address}`, {
          nats,
        });
        await good.publish(Tick, { n: 1 }, { topic });
        await using fromOptions = createBus(server.url, {
          nats: { ...nats, token: "t0ken-s3cret" },
        });
        await fromOptions.check();
        await using bad = createBus(`nats://wr0ng-t0ken@${address}`, {
          nats,
          connectionTimeout: 2_000,
        });
        const error = await rejectsWith(bad.check(), "unauthorized");
        assert.doesNotMatch(String(error.message), /t0ken|wr0ng/);
        await rejectsWith(
          bad.publish(Tick, { n: 2 }, { topic }),
          "unauthorized",
        );
      }
      {
        await using server = await privateNats({
          args: ["--user", "svc", "--pass", "p4ss-w0rd"],
        });
        const address = server.url.slice("nats://".length);
        await using good = createBus(`nats://svc:p4ss-w0rd@${address}`, {
          nats,
        });
        await good.publish(Tick, { n: 1 }, { topic });
        await using bad = createBus(server.url, {
          nats: { ...nats, username: "svc", password: "nope-n0pe" },
          connectionTimeout: 2_000,
        });
        const error = await rejectsWith(bad.check(), "unauthorized");
        assert.doesNotMatch(String(error.message), /nope|p4ss/);
      }
    },
  );
});
