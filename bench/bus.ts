// Cost of @cqi/bus over the raw Kafka clients, against the machine's broker
// (127.0.0.1:9092, or KAFKA_BROKERS), in process, with the same message
// everywhere: a PositionChanged encoded with toBinary on every call (~90
// bytes), keyed by account, with the 6 CloudEvents headers the bus writes
// (`content-type`, `ce_specversion`, `ce_id`, `ce_type`, `ce_source`,
// `ce_time`; no tracer runs, so no `traceparent`). The raw clients are built
// with the options CQI's kafkajs driver gives kafkajs (idempotent producer,
// one request in flight, acks from all in-sync replicas, the same retry,
// timeout and consumer settings).
// 1. Publish latency, one caller awaiting each publish (--calls a round):
//    CQI `bus.publish` against raw kafkajs `producer.send` of one message,
//    and raw @platformatic/kafka (idempotent, acks all) as the alternative
//    client.
// 2. Publish throughput, --callers (64) concurrent callers each awaiting its
//    own publish (--messages a round): CQI (which coalesces the calls made
//    while a send is in flight into one sendBatch) against raw kafkajs
//    `producer.send` per call (no coalescing: one produce request each),
//    raw kafkajs with one caller batching by hand (`sendBatch` of --batch,
//    500), the ceiling, and @platformatic/kafka per call and with one caller
//    sending --batch at a time. The per-call raw clients are slow (one
//    produce request at a time per message), so they get fewer messages a
//    round (--slow).
// 3. End-to-end consume: --consume messages published once to a 3-partition
//    topic, then, with a fresh group each round, the time from
//    `bus.subscribe` (or the raw consumer's connect) to the last message
//    handled: CQI (decode, delivery, dispatcher, commit after handling) with
//    `concurrency: 1` against a raw kafkajs consumer whose `eachBatch`
//    decodes every message with fromBinary and commits after each batch.
//    The time to the first message (joining the group, the first fetch) is
//    reported too, and the rate after it.
// 4-6. The same against the machine's NATS server with JetStream
//    (127.0.0.1:4222, or NATS_SERVERS; skipped, saying why, when it cannot
//    be reached), on a stream of this run's own (`CQI_BENCH_<run>`, subjects
//    `cqi.bench.<run>.>`, made as CQI's driver makes it: file storage, its
//    defaults), against raw nats.js v3 with the options CQI's driver gives it
//    (the same connection options, `js.publish` with the same headers, the
//    key in `cqi-key` as the driver carries it, the same `msgID` and
//    timeout; a durable pull consumer with the driver's configuration,
//    `consume` with the same batch and expiry, an explicit `ack` per
//    message): 4. publish latency, one caller (--calls a round); 5. 64
//    callers each awaiting its own publish (--nats-messages, 10,000, a
//    round; no batch ceiling: JetStream takes one request per message);
//    6. consumption of --consume messages by a fresh durable consumer each
//    round, CQI `bus.subscribe` with `concurrency: 1` against a raw
//    `consume` callback that decodes and acknowledges each message. The
//    publish subjects are purged before each round (outside the timing).
//
//   deno run -A bench/bus.ts [--rounds=9] [--calls=2000] [--messages=20000] [--slow=5000] [--consume=20000] [--alt=1] [--nats-messages=10000] [--only=kafka|nats]
//   bun run bench/bus.ts [...]
//
// Variants alternate within each round (order rotating); round 0 warms up
// (with a quarter of the work in sections 1, 2, 4 and 5) and is dropped.
// Prints Markdown: per variant the median over rounds (and its range), and
// the median (and range) over rounds of its time relative to the baseline's
// in the same round. Topics, groups and the NATS stream (with its durable
// consumers) are this run's own and are deleted at the end.
import process from "node:process";
import { Buffer } from "node:buffer";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Consumer,
  Kafka,
  logLevel,
  type Message,
  Partitioners,
  type Producer,
} from "kafkajs";
import {
  compatibilityPartitioner,
  Producer as AltProducer,
  stringSerializer,
} from "@platformatic/kafka";
import {
  connect as natsConnect,
  headers as natsHeaders,
  type MsgHdrs,
  type NatsConnection,
} from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
  StorageType,
} from "@nats-io/jetstream";
import { type Bus, createBus } from "@cqi/bus";
import {
  PositionChangedSchema,
  Side,
} from "../proto/gen/cqc/events/v1/position_changed_pb.ts";
import { median, ratio, spread } from "./_stats.ts";

const runtime = "Bun" in globalThis ? "bun" : "deno";
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")),
);
const ROUNDS = Number(args.rounds ?? 9);
const CALLS = Number(args.calls ?? 2_000);
const MESSAGES = Number(args.messages ?? 20_000);
const SLOW = Number(args.slow ?? 5_000);
const CONSUME = Number(args.consume ?? 20_000);
// NATS publish throughput: messages a round (fewer than Kafka's: the run
// stays within about a minute a runtime).
const NATS_MESSAGES = Number(args["nats-messages"] ?? 10_000);
const CALLERS = Number(args.callers ?? 64);
const BATCH = Number(args.batch ?? 500);
const ALT = args.alt !== "0";
// "kafka" or "nats" runs that part only; both by default.
const ONLY = args.only ?? "";
const BROKERS = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",")
  .map((b) => b.trim()).filter((b) => b !== "");
// Every topic and group of this run starts with this.
const RUN = `cqibench-${runtime}-${Date.now().toString(36)}-${
  Math.random().toString(36).slice(2, 8)
}`;
const SERVICE = "cqibench";
const NATS_SERVERS = (process.env.NATS_SERVERS ?? "127.0.0.1:4222").split(",")
  .map((s) => s.trim()).filter((s) => s !== "");
// This run's NATS stream and the subjects it holds (a token has no '.').
const NATS_RUN = RUN.replace(/^cqibench-/, "").replaceAll("-", "_");
const NATS_STREAM = `CQI_BENCH_${NATS_RUN}`;
const NATS_ROOT = `cqi.bench.${NATS_RUN}`;
const KEYS = 64;
const keys = Array.from({ length: KEYS }, (_, i) => `acct-${1000 + i}`);
// CQI's defaults (createBus), which its driver turns into client options.
const CONNECTION_TIMEOUT = 5_000;
const REQUEST_TIMEOUT = 10_000;
const SESSION_TIMEOUT = 10_000;

const event = create(PositionChangedSchema, {
  eventId: "evt_0001234",
  position: {
    accountId: "acct-1042",
    assetId: "ast_0001",
    quantity: 1_500n,
    averagePrice: 187.25,
    version: 7n,
  },
  occurredAt: timestampFromDate(new Date("2026-12-04T10:00:00.250Z")),
  side: Side.BUY,
  source: { case: "orderId", value: "ord_000981" },
  feeRate: 0.0005,
  deltaLots: 5,
  sequence: 123_456n,
});
const EVENT_BYTES = toBinary(PositionChangedSchema, event).length;
const TYPE = PositionChangedSchema.typeName;

/** The headers the bus writes on every message, made the same way. */
function headers(): Record<string, string> {
  return {
    "content-type": "application/x-protobuf",
    ce_specversion: "1.0",
    ce_id: crypto.randomUUID(),
    ce_type: TYPE,
    ce_source: SERVICE,
    ce_time: new Date().toISOString(),
  };
}

/** A raw @platformatic/kafka message: encoded now, with fresh headers. */
function altMessage(topic: string, i = 0) {
  const bytes = toBinary(PositionChangedSchema, event);
  return {
    topic,
    key: keys[i % KEYS],
    value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    headers: headers(),
  };
}

/** A raw kafkajs message: encoded now, with fresh headers. */
function rawMessage(i: number): Message {
  const bytes = toBinary(PositionChangedSchema, event);
  return {
    key: keys[i % KEYS],
    value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    headers: headers(),
  };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const rate = (values: number[], per: number) =>
  Math.round(median(values.map((v) => per / v))).toLocaleString("en");

/** Runs `rounds` rounds of `run(variant, warm)` over `names`, rotating. */
async function alternate<R>(
  names: string[],
  run: (name: string, warm: boolean) => Promise<R>,
): Promise<Record<string, R[]>> {
  const results: Record<string, R[]> = {};
  for (const name of names) results[name] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      const result = await run(name, round === 0);
      if (round > 0) results[name].push(result);
    }
  }
  return results;
}

// ---- clients ----

// The retry options CQI's driver gives kafkajs (retryOptions).
const retry = {
  retries: 5,
  initialRetryTime: 100,
  maxRetryTime: 2_000,
  factor: 0.2,
  multiplier: 2,
};

const kafka = new Kafka({
  brokers: BROKERS,
  clientId: SERVICE,
  connectionTimeout: CONNECTION_TIMEOUT,
  requestTimeout: REQUEST_TIMEOUT,
  retry,
  logLevel: logLevel.NOTHING,
  logCreator: () => () => {},
});

function rawProducer(): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

function altProducer() {
  // The options of the @platformatic/kafka driver this project tried (commit
  // c922838): idempotent, acks from all in-sync replicas, Java-compatible
  // key partitioning; strings serialized by the library.
  const producer = new AltProducer<string, Buffer, string, string>({
    clientId: SERVICE,
    bootstrapBrokers: BROKERS,
    connectTimeout: CONNECTION_TIMEOUT,
    requestTimeout: REQUEST_TIMEOUT,
    timeout: REQUEST_TIMEOUT,
    retries: 4,
    idempotent: true,
    acks: -1,
    partitioner: compatibilityPartitioner,
    serializers: {
      key: stringSerializer,
      headerKey: stringSerializer,
      headerValue: stringSerializer,
    },
  });
  producer.on("error", () => {});
  return producer;
}

const admin = kafka.admin();
const groups: string[] = [];

async function createTopics(names: string[]) {
  await admin.createTopics({
    topics: names.map((topic) => ({
      topic,
      numPartitions: 3,
      replicationFactor: 1,
    })),
    waitForLeaders: true,
  });
}

function newBus(): Bus {
  return createBus(`kafka://${BROKERS.join(",")}`, {
    service: { name: SERVICE },
  });
}

// ---- 1 and 2. publish ----

type Publish = (i: number) => Promise<unknown>;

async function publishSections() {
  const raw = rawProducer();
  const rawBatch = rawProducer();
  await Promise.all([raw.connect(), rawBatch.connect()]);
  const alt = ALT ? altProducer() : undefined;
  const bus = newBus();

  const topic = (name: string) => `${RUN}.pub.${name}`;
  await createTopics(
    ["raw", "cqi", "batch", "alt"].map((name) => topic(name)),
  );
  const publish: Record<string, Publish> = {
    kafkajs: (i) =>
      raw.send({
        topic: topic("raw"),
        acks: -1,
        timeout: REQUEST_TIMEOUT,
        messages: [rawMessage(i)],
      }),
    cqi: (i) =>
      bus.publish(PositionChangedSchema, event, {
        topic: topic("cqi"),
        key: keys[i % KEYS],
      }),
    alt: (i) => alt!.send({ messages: [altMessage(topic("alt"), i)] }),
  };
  // Connect and learn the topics' metadata outside the measurement.
  for (let i = 0; i < 20; i++) {
    await publish.kafkajs(i);
    await publish.cqi(i);
    if (alt) await publish.alt(i);
  }
  await rawBatch.send({
    topic: topic("batch"),
    acks: -1,
    messages: [rawMessage(0)],
  });

  // 1. One caller: every call's time.
  const latencyNames: Record<string, string> = {
    kafkajs: "kafkajs (raw), `send`",
    cqi: "CQI `bus.publish`",
    ...(alt ? { alt: "@platformatic/kafka (raw, alternative client)" } : {}),
  };
  const latency = await alternate(
    Object.keys(latencyNames),
    async (name, warm) => {
      const calls = warm ? Math.ceil(CALLS / 4) : CALLS;
      const times = new Float64Array(calls);
      const started = performance.now();
      for (let i = 0; i < calls; i++) {
        const t = performance.now();
        await publish[name](i);
        times[i] = performance.now() - t;
      }
      const total = performance.now() - started;
      times.sort();
      return {
        p50: percentile(times, 0.5) * 1_000,
        p99: percentile(times, 0.99) * 1_000,
        perCall: total * 1_000 / calls,
      };
    },
  );
  console.log(
    `\n### Publish latency, one caller, ${EVENT_BYTES}-byte PositionChanged (${runtime}, ${CALLS} calls a round)\n`,
  );
  console.log(
    "| runtime | variant | p50 µs | p99 µs | calls/s | p50 time vs kafkajs | p99 time vs kafkajs |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
  for (const [name, label] of Object.entries(latencyNames)) {
    const r = latency[name];
    const base = latency.kafkajs;
    const bold = name === "cqi";
    const p50 = r.map((x) => x.p50);
    const p99 = r.map((x) => x.p99);
    console.log(
      `| ${runtime} | ${bold ? `**${label}**` : label} | ${
        spread(p50, 1, 0)
      } | ${spread(p99, 1, 0)} | ${rate(r.map((x) => x.perCall), 1e6)} | ${
        name === "kafkajs" ? "1.00×" : ratio(p50, base.map((x) => x.p50), bold)
      } | ${
        name === "kafkajs" ? "1.00×" : ratio(p99, base.map((x) => x.p99), bold)
      } |`,
    );
  }

  // 2. Many callers, each awaiting its own publish; and one caller batching.
  const batchOf = (from: number, count: number) =>
    Array.from({ length: count }, (_, j) => rawMessage(from + j));
  const throughputNames: Record<string, string> = {
    kafkajs: `kafkajs (raw), \`send\` per call, ${CALLERS} callers`,
    cqi: `CQI \`bus.publish\`, ${CALLERS} callers`,
    batch: `kafkajs (raw), \`sendBatch\` of ${BATCH}, 1 caller (ceiling)`,
    ...(alt
      ? {
        alt: `@platformatic/kafka (raw), \`send\` per call, ${CALLERS} callers`,
        altBatch: `@platformatic/kafka (raw), \`send\` of ${BATCH}, 1 caller`,
      }
      : {}),
  };
  const slow = new Set(["kafkajs", "alt"]);
  const counts: Record<string, number> = {};
  const throughput = await alternate(
    Object.keys(throughputNames),
    async (name, warm) => {
      const full = slow.has(name) ? SLOW : MESSAGES;
      const total = warm ? Math.ceil(full / 4) : full;
      counts[name] = full;
      const started = performance.now();
      if (name === "altBatch") {
        for (let from = 0; from < total; from += BATCH) {
          await alt!.send({
            messages: Array.from(
              { length: Math.min(BATCH, total - from) },
              (_, j) => altMessage(topic("alt"), from + j),
            ),
          });
        }
      } else if (name === "batch") {
        for (let from = 0; from < total; from += BATCH) {
          await rawBatch.sendBatch({
            acks: -1,
            timeout: REQUEST_TIMEOUT,
            topicMessages: [{
              topic: topic("batch"),
              messages: batchOf(from, Math.min(BATCH, total - from)),
            }],
          });
        }
      } else {
        let next = 0;
        await Promise.all(
          Array.from({ length: CALLERS }, async () => {
            while (next < total) await publish[name](next++);
          }),
        );
      }
      // µs per message
      return (performance.now() - started) * 1_000 / total;
    },
  );
  console.log(
    `\n### Publish throughput, ${CALLERS} concurrent callers (${runtime})\n`,
  );
  console.log(
    "| runtime | variant | messages a round | msgs/s | µs/msg | time vs kafkajs `send` per call | time vs `sendBatch` ceiling |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
  for (const [name, label] of Object.entries(throughputNames)) {
    const r = throughput[name];
    const bold = name === "cqi";
    console.log(
      `| ${runtime} | ${bold ? `**${label}**` : label} | ${
        counts[name].toLocaleString("en")
      } | ${rate(r, 1e6)} | ${spread(r, 1, 1)} | ${
        name === "kafkajs" ? "1.00×" : ratio(r, throughput.kafkajs, bold)
      } | ${name === "batch" ? "1.00×" : ratio(r, throughput.batch, bold)} |`,
    );
  }

  await bus.close();
  await Promise.all([
    raw.disconnect(),
    rawBatch.disconnect(),
    alt?.close(true),
  ]);
}

// ---- 3. consume ----

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => resolve = r);
  return { promise, resolve };
}

interface Consumed {
  /** ms from the start to the first message handled */
  first: number;
  /** ms from the start to the last */
  total: number;
}

/** Subscribes a new group (concurrency 1) and times it to `CONSUME` messages. */
async function consumeWithCqi(
  bus: Bus,
  topic: string,
  group: string,
): Promise<Consumed> {
  let count = 0;
  let first = 0;
  const done = signal();
  const started = performance.now();
  const subscription = await bus.subscribe(
    PositionChangedSchema,
    () => {
      if (count === 0) first = performance.now();
      if (++count === CONSUME) done.resolve();
    },
    { topic, group, concurrency: 1 },
  );
  await done.promise;
  const end = performance.now();
  await subscription.close();
  return { first: first - started, total: end - started };
}

async function consumeSection() {
  const topic = `${RUN}.consume`;
  await createTopics([topic]);
  const producer = rawProducer();
  await producer.connect();
  for (let from = 0; from < CONSUME; from += BATCH) {
    await producer.sendBatch({
      acks: -1,
      topicMessages: [{
        topic,
        messages: Array.from(
          { length: Math.min(BATCH, CONSUME - from) },
          (_, j) => rawMessage(from + j),
        ),
      }],
    });
  }
  await producer.disconnect();
  const bus = newBus();
  let serial = 0;
  const group = () => {
    const name = `${RUN}-group-${serial++}`;
    groups.push(name);
    return name;
  };

  const cqi = () => consumeWithCqi(bus, topic, group());

  const raw = async (): Promise<Consumed> => {
    let count = 0;
    let first = 0;
    const done = signal();
    // The consumer settings of CQI's driver (KafkajsConsumption).
    const consumer: Consumer = kafka.consumer({
      groupId: group(),
      sessionTimeout: SESSION_TIMEOUT,
      heartbeatInterval: SESSION_TIMEOUT / 4,
      rebalanceTimeout: 60_000,
      maxWaitTimeInMs: 500,
      retry,
    });
    const started = performance.now();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
        for (const message of batch.messages) {
          fromBinary(PositionChangedSchema, message.value!);
          if (count === 0) first = performance.now();
          if (++count === CONSUME) done.resolve();
        }
        if (batch.messages.length === 0) return;
        const last = batch.lastOffset();
        resolveOffset(last);
        await commitOffsetsIfNecessary({
          topics: [{
            topic: batch.topic,
            partitions: [{
              partition: batch.partition,
              offset: (BigInt(last) + 1n).toString(),
            }],
          }],
        });
      },
    });
    await done.promise;
    const end = performance.now();
    await consumer.disconnect();
    return { first: first - started, total: end - started };
  };

  const names: Record<string, string> = {
    kafkajs: "kafkajs (raw) consumer, `eachBatch`",
    cqi: "CQI `bus.subscribe`, concurrency 1",
  };
  const run: Record<string, () => Promise<Consumed>> = { kafkajs: raw, cqi };
  const results = await alternate(Object.keys(names), (name) => run[name]());
  console.log(
    `\n### Consume ${
      CONSUME.toLocaleString("en")
    } messages from 3 partitions, fresh group (${runtime})\n`,
  );
  console.log(
    "| runtime | variant | total ms | msgs/s overall | ms to first message | msgs/s after the first | total time vs raw | time after the first vs raw |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  const after = (r: Consumed[]) => r.map((x) => x.total - x.first);
  for (const [name, label] of Object.entries(names)) {
    const r = results[name];
    const base = results.kafkajs;
    const bold = name === "cqi";
    const total = r.map((x) => x.total);
    console.log(
      `| ${runtime} | ${bold ? `**${label}**` : label} | ${
        spread(total, 1, 0)
      } | ${rate(total, CONSUME * 1_000)} | ${
        spread(r.map((x) => x.first), 1, 0)
      } | ${rate(after(r), (CONSUME - 1) * 1_000)} | ${
        name === "kafkajs"
          ? "1.00×"
          : ratio(total, base.map((x) => x.total), bold)
      } | ${
        name === "kafkajs" ? "1.00×" : ratio(after(r), after(base), bold)
      } |`,
    );
  }
  await bus.close();
}

// ---- 4, 5 and 6. NATS JetStream ----

// CQI's NATS defaults (createBus, nats_options.ts), which its driver turns
// into the connection, the stream and the durable consumers.
const NATS_DUPLICATE_WINDOW = 120_000;
const NATS_MAX_AGE = 7 * 24 * 3_600_000;
const NATS_ACK_WAIT = 30_000;
const NATS_MAX_ACK_PENDING = 1_000;
const NATS_PULL_BATCH = 64; // the driver's fetch for one handler slot
const NATS_PULL_EXPIRES = 2_000;
/** The header CQI's NATS driver carries the key in. */
const NATS_KEY_HEADER = "cqi-key";
const ns = (ms: number) => Math.round(ms * 1e6);

/** A connection with the options CQI's NATS driver gives nats.js. */
function natsConnection(timeout = CONNECTION_TIMEOUT): Promise<NatsConnection> {
  return natsConnect({
    servers: NATS_SERVERS,
    name: SERVICE,
    timeout,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: Math.max(1_000, Math.min(20_000, REQUEST_TIMEOUT)),
    maxPingOut: 2,
  });
}

/**
 * A raw JetStream publish of what CQI's driver sends: the message encoded
 * now, the bus's headers and the key header, de-duplicated by the same
 * message id (`<subject> <ce_id>`), with the same timeout.
 */
function natsRawPublish(js: JetStreamClient, subject: string, i: number) {
  const h: MsgHdrs = natsHeaders();
  const fields = headers();
  for (const [name, value] of Object.entries(fields)) h.set(name, value);
  h.set(NATS_KEY_HEADER, keys[i % KEYS]);
  return js.publish(subject, toBinary(PositionChangedSchema, event), {
    headers: h,
    timeout: REQUEST_TIMEOUT,
    msgID: `${subject} ${fields.ce_id}`,
  });
}

async function natsSections() {
  const where = `nats://${NATS_SERVERS.join(",")}`;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  try {
    nc = await natsConnection(2_000);
  } catch (error) {
    console.log(
      `\n### NATS JetStream (${runtime})\n\nSkipped: cannot reach ${where} (${
        (error as Error).message
      }).`,
    );
    return;
  }
  try {
    jsm = await jetstreamManager(nc, { timeout: REQUEST_TIMEOUT });
  } catch (error) {
    console.log(
      `\n### NATS JetStream (${runtime})\n\nSkipped: no JetStream at ${where} (${
        (error as Error).message
      }).`,
    );
    await nc.close();
    return;
  }
  const js = jetstream(nc, { timeout: REQUEST_TIMEOUT });
  const bus = createBus(where, {
    service: { name: SERVICE },
    nats: { stream: NATS_STREAM, subjects: [`${NATS_ROOT}.>`] },
  });
  try {
    // The stream CQI's driver would create (file storage, its defaults),
    // made here so that the raw variants can run first; the bus finds it as
    // it wants it and changes nothing.
    await jsm.streams.add({
      name: NATS_STREAM,
      subjects: [`${NATS_ROOT}.>`],
      storage: StorageType.File,
      max_age: ns(NATS_MAX_AGE),
      max_bytes: -1,
      max_msgs: -1,
      num_replicas: 1,
      duplicate_window: ns(NATS_DUPLICATE_WINDOW),
    });
    await natsPublish(js, jsm, bus);
    await natsConsume(js, jsm, bus);
  } finally {
    await bus.close();
    await jsm.streams.delete(NATS_STREAM).catch((error) =>
      console.error("deleting the NATS stream:", error)
    );
    await nc.close();
  }
}

async function natsPublish(
  js: JetStreamClient,
  jsm: JetStreamManager,
  bus: Bus,
) {
  const subject = (name: string) => `${NATS_ROOT}.pub.${name}`;
  const publish: Record<string, Publish> = {
    nats: (i) => natsRawPublish(js, subject("raw"), i),
    cqi: (i) =>
      bus.publish(PositionChangedSchema, event, {
        topic: subject("cqi"),
        key: keys[i % KEYS],
      }),
  };
  // Connect (CQI: and check the stream) outside the measurement.
  for (let i = 0; i < 20; i++) {
    await publish.nats(i);
    await publish.cqi(i);
  }
  // Each round starts on an empty stream (purged outside the measurement).
  const purge = () =>
    jsm.streams.purge(NATS_STREAM, { filter: `${NATS_ROOT}.pub.>` });

  // 4. One caller: every call's time.
  const latencyNames: Record<string, string> = {
    nats: "nats.js (raw), `js.publish`",
    cqi: "CQI `bus.publish`",
  };
  const latency = await alternate(
    Object.keys(latencyNames),
    async (name, warm) => {
      await purge();
      const calls = warm ? Math.ceil(CALLS / 4) : CALLS;
      const times = new Float64Array(calls);
      const started = performance.now();
      for (let i = 0; i < calls; i++) {
        const t = performance.now();
        await publish[name](i);
        times[i] = performance.now() - t;
      }
      const total = performance.now() - started;
      times.sort();
      return {
        p50: percentile(times, 0.5) * 1_000,
        p99: percentile(times, 0.99) * 1_000,
        perCall: total * 1_000 / calls,
      };
    },
  );
  console.log(
    `\n### NATS JetStream publish latency, one caller, ${EVENT_BYTES}-byte PositionChanged (${runtime}, ${CALLS} calls a round)\n`,
  );
  console.log(
    "| runtime | variant | p50 µs | p99 µs | calls/s | p50 time vs nats.js | p99 time vs nats.js |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
  for (const [name, label] of Object.entries(latencyNames)) {
    const r = latency[name];
    const base = latency.nats;
    const bold = name === "cqi";
    const p50 = r.map((x) => x.p50);
    const p99 = r.map((x) => x.p99);
    console.log(
      `| ${runtime} | ${bold ? `**${label}**` : label} | ${
        spread(p50, 1, 0)
      } | ${spread(p99, 1, 0)} | ${rate(r.map((x) => x.perCall), 1e6)} | ${
        name === "nats" ? "1.00×" : ratio(p50, base.map((x) => x.p50), bold)
      } | ${
        name === "nats" ? "1.00×" : ratio(p99, base.map((x) => x.p99), bold)
      } |`,
    );
  }

  // 5. Many callers, each awaiting its own publish.
  const throughputNames: Record<string, string> = {
    nats: `nats.js (raw), \`js.publish\` per call, ${CALLERS} callers`,
    cqi: `CQI \`bus.publish\`, ${CALLERS} callers`,
  };
  const throughput = await alternate(
    Object.keys(throughputNames),
    async (name, warm) => {
      await purge();
      const total = warm ? Math.ceil(NATS_MESSAGES / 4) : NATS_MESSAGES;
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: CALLERS }, async () => {
          while (next < total) await publish[name](next++);
        }),
      );
      // µs per message
      return (performance.now() - started) * 1_000 / total;
    },
  );
  console.log(
    `\n### NATS JetStream publish throughput, ${CALLERS} concurrent callers (${runtime}, ${
      NATS_MESSAGES.toLocaleString("en")
    } messages a round)\n`,
  );
  console.log(
    "| runtime | variant | msgs/s | µs/msg | time vs nats.js per call |",
  );
  console.log("| --- | --- | ---: | ---: | ---: |");
  for (const [name, label] of Object.entries(throughputNames)) {
    const r = throughput[name];
    const bold = name === "cqi";
    console.log(
      `| ${runtime} | ${bold ? `**${label}**` : label} | ${rate(r, 1e6)} | ${
        spread(r, 1, 1)
      } | ${name === "nats" ? "1.00×" : ratio(r, throughput.nats, bold)} |`,
    );
  }
  await purge();
}

async function natsConsume(
  js: JetStreamClient,
  jsm: JetStreamManager,
  bus: Bus,
) {
  const topic = `${NATS_ROOT}.consume`;
  for (let from = 0; from < CONSUME; from += BATCH) {
    await Promise.all(
      Array.from(
        { length: Math.min(BATCH, CONSUME - from) },
        (_, j) => natsRawPublish(js, topic, from + j),
      ),
    );
  }
  let serial = 0;
  const group = () => `${RUN}-group-${serial++}`;

  const cqi = () => consumeWithCqi(bus, topic, group());

  const raw = async (): Promise<Consumed> => {
    let count = 0;
    let first = 0;
    const done = signal();
    const name = group().replace(/[^A-Za-z0-9_-]/g, "_");
    const started = performance.now();
    // The durable consumer CQI's driver makes for a group (NatsConsumption).
    await jsm.consumers.add(NATS_STREAM, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      filter_subject: topic,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ns(NATS_ACK_WAIT),
      max_deliver: -1, // the driver counts deliveries itself
      max_ack_pending: NATS_MAX_ACK_PENDING,
    });
    const consumer = await js.consumers.get(NATS_STREAM, name);
    const messages = await consumer.consume({
      max_messages: NATS_PULL_BATCH,
      expires: NATS_PULL_EXPIRES,
      callback: (message) => {
        fromBinary(PositionChangedSchema, message.data);
        message.ack();
        if (count === 0) first = performance.now();
        if (++count === CONSUME) done.resolve();
      },
    });
    await done.promise;
    const end = performance.now();
    await messages.close();
    return { first: first - started, total: end - started };
  };

  const names: Record<string, string> = {
    nats: "nats.js (raw) `consume`, explicit ack",
    cqi: "CQI `bus.subscribe`, concurrency 1",
  };
  const run: Record<string, () => Promise<Consumed>> = { nats: raw, cqi };
  const results = await alternate(Object.keys(names), (name) => run[name]());
  console.log(
    `\n### NATS JetStream consume ${
      CONSUME.toLocaleString("en")
    } messages, fresh durable consumer (${runtime})\n`,
  );
  console.log(
    "| runtime | variant | total ms | msgs/s overall | ms to first message | msgs/s after the first | total time vs raw | time after the first vs raw |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  const after = (r: Consumed[]) => r.map((x) => x.total - x.first);
  for (const [name, label] of Object.entries(names)) {
    const r = results[name];
    const base = results.nats;
    const bold = name === "cqi";
    const total = r.map((x) => x.total);
    console.log(
      `| ${runtime} | ${bold ? `**${label}**` : label} | ${
        spread(total, 1, 0)
      } | ${rate(total, CONSUME * 1_000)} | ${
        spread(r.map((x) => x.first), 1, 0)
      } | ${rate(after(r), (CONSUME - 1) * 1_000)} | ${
        name === "nats" ? "1.00×" : ratio(total, base.map((x) => x.total), bold)
      } | ${name === "nats" ? "1.00×" : ratio(after(r), after(base), bold)} |`,
    );
  }
}

const started = performance.now();
if (ONLY !== "nats") {
  const kafkaStarted = performance.now();
  await admin.connect();
  try {
    await publishSections();
    await consumeSection();
  } finally {
    // This run's topics, the dead-letter topic CQI's subscribe made included.
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(RUN));
    await admin.deleteTopics({ topics }).catch((error) =>
      console.error("deleting topics:", error)
    );
    if (groups.length > 0) {
      await admin.deleteGroups(groups).catch((error) =>
        console.error("deleting groups:", error)
      );
    }
    await admin.disconnect();
  }
  console.error(
    `\n(${runtime}, Kafka: ${
      ((performance.now() - kafkaStarted) / 1000).toFixed(1)
    } s)`,
  );
}
if (ONLY !== "kafka") {
  const natsStarted = performance.now();
  await natsSections();
  console.error(
    `\n(${runtime}, NATS: ${
      ((performance.now() - natsStarted) / 1000).toFixed(1)
    } s)`,
  );
}
console.error(
  `\n(${runtime}: ${((performance.now() - started) / 1000).toFixed(1)} s)`,
);
