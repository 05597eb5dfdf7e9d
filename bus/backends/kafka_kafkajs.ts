// The Kafka backend on kafkajs: an idempotent producer (acks from all
// in-sync replicas), consumer groups that commit by hand after handling, and
// an admin client for topics and health. Each client connects on first use;
// a client whose connection failed is dropped, so the next call starts over.
//
// kafkajs has no background heartbeat: a member heartbeats between fetches
// and when its handler asks. So every batch heartbeats on a timer while it
// runs, and when the heartbeat says the group rebalances (or dropped us), no
// further record of the batch starts: those in flight finish, their offsets
// are committed, and the batch throws kafkajs's error, on which kafkajs
// rejoins the group once every batch of its fetch has ended. Partitions move
// only after that, so two members never handle one partition at once (unless
// one outlives the rebalance timeout: then the group drops it, and its
// commits fail).
import { Buffer } from "node:buffer";
import {
  type Admin,
  type Batch,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  Kafka,
  type KafkaMessage,
  logLevel,
  type Message,
  Partitioners,
  type Producer,
  type RetryOptions,
} from "kafkajs";
import {
  canceled,
  type CqiError,
  invalidInput,
  permanent,
  timeout,
} from "@cqi/errors";
import { probe, withDeadline } from "./deadline.ts";
import { Dispatcher } from "../dispatch.ts";
import type {
  BusDriver,
  ConsumeOptions,
  Consumption,
  IncomingRecord,
  OutgoingRecord,
  RecordHandler,
} from "./driver.ts";
import { isRebalance, kafkaError } from "./kafka_error.ts";
import type { KafkaDriverOptions } from "./kafka_options.ts";

/**
 * How long the group waits for its members to rejoin when it rebalances: a
 * member's records in flight must finish within it (kafkajs's default).
 */
const REBALANCE_TIMEOUT = 60_000;
/**
 * The longest a fetch waits for records: a closing member waits for the
 * fetch in flight, so this bounds `close()` when nothing is handled.
 */
const FETCH_MAX_WAIT = 500;
/** Pauses between attempts at a commit that failed. */
const COMMIT_RETRY_DELAYS = [100, 500];

/**
 * A Kafka driver on kafkajs.
 *
 * @param options Brokers, client id and timeouts.
 * @returns The driver; it connects on first use.
 */
export function kafkajsDriver(options: KafkaDriverOptions): BusDriver {
  return new KafkajsDriver(options);
}

// Every field of kafkajs's retry options, so that its test defaults (which
// `NODE_ENV=test`, as `bun test` sets, selects) never apply.
function retryOptions(retries: number, options: KafkaDriverOptions) {
  return {
    retries,
    initialRetryTime: 100,
    maxRetryTime: Math.min(2_000, options.requestTimeout),
    factor: 0.2,
    multiplier: 2,
  } satisfies RetryOptions;
}

function newKafka(options: KafkaDriverOptions, retries: number): Kafka {
  return new Kafka({
    brokers: options.brokers,
    clientId: options.clientId,
    connectionTimeout: options.connectionTimeout,
    requestTimeout: options.requestTimeout,
    retry: retryOptions(retries, options),
    // Our callers report errors; kafkajs's logger (and KAFKAJS_LOG_LEVEL)
    // would print them a second time, with payload-free but noisy details.
    logLevel: logLevel.NOTHING,
    logCreator: () => () => {},
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function closedError(operation: string): CqiError {
  return permanent(`kafka ${operation}: the bus is closed`);
}

// ---------------------------------------------------------------- records

const utf8 = new TextDecoder(); // not fatal: malformed bytes become U+FFFD

// The first string or bytes of a key or header. kafkajs builds its headers
// object by reading `headers[name]` first, so a header named after a member
// of Object.prototype (`constructor`) arrives as `[Object, <Buffer>]`:
// anything else in the way is skipped, and nothing here throws.
function text(value: unknown): string | undefined {
  for (const item of Array.isArray(value) ? value : [value]) {
    if (typeof item === "string") return item;
    if (item instanceof Uint8Array) return utf8.decode(item);
  }
  return undefined;
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const entries: [string, string][] = [];
  if (headers !== undefined && headers !== null) {
    for (const name of Object.keys(headers)) {
      const value = text(headers[name]);
      if (value !== undefined) entries.push([name, value]);
    }
  }
  // fromEntries defines own properties, a `__proto__` header included.
  return Object.fromEntries(entries);
}

function toRecord(batch: Batch, message: KafkaMessage): IncomingRecord {
  const value = message.value;
  const highWatermark = Number(batch.highWatermark);
  const offset = Number(message.offset);
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset: message.offset,
    key: text(message.key),
    value: value === null || value === undefined
      ? new Uint8Array(0)
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
    headers: headersOf(message.headers),
    timestamp: Number(message.timestamp),
    lag: Number.isFinite(highWatermark) && highWatermark >= 0 &&
        Number.isFinite(offset)
      ? Math.max(0, highWatermark - offset - 1)
      : undefined,
  };
}

function toMessage(record: OutgoingRecord): Message {
  const v = record.value;
  return {
    key: record.key ?? null,
    value: Buffer.from(v.buffer, v.byteOffset, v.byteLength),
    headers: record.headers,
  };
}

/** The offset after `offset`, as Kafka commits it. */
function next(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

// ---------------------------------------------------------------- clients

interface Connectable {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

interface Slot<C extends Connectable> {
  client: C;
  ready: Promise<void>;
  /** Calls using the client now. */
  inflight: number;
  /** Dropped: disconnects once its calls ended. */
  retired: boolean;
}

/**
 * One client connected on first use and shared; dropped when a call on it
 * fails (its connection, or for the producer its sequence numbers, may be
 * broken), so that the next call makes a new one.
 */
class Lazy<C extends Connectable> {
  readonly #make: () => C;
  #current: Slot<C> | undefined;
  readonly #all = new Set<Slot<C>>();

  constructor(make: () => C) {
    this.#make = make;
  }

  /** Runs `use` on the client, connecting it first; drops it on failure. */
  async use<T>(use: (client: C) => Promise<T>): Promise<T> {
    let slot = this.#current;
    if (slot === undefined) {
      const client = this.#make();
      const created: Slot<C> = {
        client,
        ready: client.connect(),
        inflight: 0,
        retired: false,
      };
      this.#current = slot = created;
      this.#all.add(created);
      created.ready.catch(() => this.#retire(created));
    }
    slot.inflight++;
    try {
      await slot.ready;
      return await use(slot.client);
    } catch (error) {
      this.#retire(slot);
      throw error;
    } finally {
      slot.inflight--;
      if (slot.retired && slot.inflight === 0) this.#disconnect(slot);
    }
  }

  #retire(slot: Slot<C>): void {
    if (this.#current === slot) this.#current = undefined;
    if (slot.retired) return;
    slot.retired = true;
    if (slot.inflight === 0) this.#disconnect(slot);
  }

  #disconnect(slot: Slot<C>): Promise<void> {
    this.#all.delete(slot);
    return slot.client.disconnect().catch(() => {});
  }

  /** Disconnects every client, calls in flight or not. */
  async close(): Promise<void> {
    this.#current = undefined;
    await Promise.all([...this.#all].map((slot) => this.#disconnect(slot)));
  }
}

// ---------------------------------------------------------------- driver

class KafkajsDriver implements BusDriver {
  readonly system = "kafka";
  readonly #options: KafkaDriverOptions;
  readonly #kafka: Kafka;
  readonly #producer: Lazy<Producer>;
  readonly #admin: Lazy<Admin>;
  readonly #probe: Lazy<Admin>;
  readonly #consumptions = new Set<KafkajsConsumption>();
  readonly #publishing = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(options: KafkaDriverOptions) {
    this.#options = options;
    this.#kafka = newKafka(options, 5);
    // Health checks answer at once: no retries.
    const probe = newKafka(options, 0);
    this.#producer = new Lazy(() =>
      this.#kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        retry: retryOptions(5, options),
        createPartitioner: Partitioners.DefaultPartitioner,
      })
    );
    this.#admin = new Lazy(() => this.#kafka.admin());
    this.#probe = new Lazy(() => probe.admin());
  }

  /** The longest a publish may take: a connect and a few requests. */
  get #publishDeadline(): number {
    return this.#options.connectionTimeout + 2 * this.#options.requestTimeout;
  }

  async publish(records: OutgoingRecord[]): Promise<void> {
    if (this.#closing !== undefined) throw closedError("publish");
    if (records.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const record of records) {
      const messages = byTopic.get(record.topic);
      if (messages === undefined) {
        byTopic.set(record.topic, [toMessage(record)]);
      } else messages.push(toMessage(record));
    }
    const topics = [...byTopic.keys()];
    // On any failure the producer is replaced: kafkajs rolls its sequence
    // numbers back after a failed request the broker may have written, so
    // the next batch would be taken for a duplicate (and dropped) or be out
    // of order for ever. A new producer has a new id and new sequences.
    const sending = this.#producer.use((producer) =>
      producer.sendBatch({
        acks: -1,
        timeout: this.#options.requestTimeout,
        topicMessages: [...byTopic].map(([topic, messages]) => ({
          topic,
          messages,
        })),
      })
    );
    const ms = this.#publishDeadline;
    const waiting = withDeadline(
      sending,
      ms,
      () =>
        timeout(
          `kafka publish (${topics.map((t) => JSON.stringify(t)).join(", ")})` +
            ` not acknowledged within ${ms} ms`,
        ),
    );
    this.#publishing.add(waiting);
    try {
      await waiting;
    } catch (error) {
      throw kafkaError(error, "publish", topics);
    } finally {
      this.#publishing.delete(waiting);
    }
  }

  async ensureTopics(topics: string[]): Promise<void> {
    if (this.#closing !== undefined) throw closedError("ensureTopics");
    const names = [...new Set(topics)];
    if (names.length === 0) return;
    const { partitions, requestTimeout, connectionTimeout } = this.#options;
    const ms = connectionTimeout + 3 * requestTimeout;
    try {
      await withDeadline(
        this.#admin.use((admin) =>
          admin.createTopics({
            topics: names.map((topic) => ({
              topic,
              numPartitions: partitions ?? -1,
              replicationFactor: -1,
            })),
            waitForLeaders: true,
            timeout: requestTimeout,
          })
        ),
        ms,
        () => timeout(`kafka ensureTopics not done within ${ms} ms`),
      );
    } catch (error) {
      throw kafkaError(error, "ensureTopics", names);
    }
  }

  async consume(
    options: ConsumeOptions,
    handle: RecordHandler,
  ): Promise<Consumption> {
    if (this.#closing !== undefined) throw closedError("consume");
    if (options.topics.length === 0) {
      throw invalidInput("kafka consume: no topics");
    }
    let consumption: KafkajsConsumption;
    try {
      consumption = new KafkajsConsumption(
        this.#kafka,
        this.#options,
        options,
        handle,
        () => this.#consumptions.delete(consumption),
      );
    } catch (error) {
      // kafkajs checks its settings (heartbeat below session timeout)
      throw kafkaError(error, "consume", options.topics);
    }
    this.#consumptions.add(consumption);
    await consumption.start();
    return consumption;
  }

  check(signal?: AbortSignal): Promise<void> {
    const ms = this.#options.connectionTimeout + this.#options.requestTimeout;
    return probe("kafka", signal, ms, async () => {
      if (this.#closing !== undefined) throw closedError("check");
      try {
        await this.#probe.use((admin) => admin.describeCluster());
      } catch (error) {
        throw kafkaError(error, "check");
      }
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await Promise.all([...this.#consumptions].map((c) => c.close()));
    await Promise.allSettled([...this.#publishing]);
    await Promise.all([
      this.#producer.close(),
      this.#admin.close(),
      this.#probe.close(),
    ]);
  }
}

// ---------------------------------------------------------------- consumer

/** Thrown to the dispatcher for a record that must not start. */
const HALT = new Error("halted");

class KafkajsConsumption implements Consumption {
  readonly #options: KafkaDriverOptions;
  readonly #consume: ConsumeOptions;
  readonly #consumer: Consumer;
  readonly #dispatcher: Dispatcher;
  readonly #onClosed: () => void;
  /** `handle` rejected: the consumer is stopping; handle nothing more. */
  #stopped = false;
  #closing: Promise<void> | undefined;
  /** The group rebalances (or dropped us): start no record until rejoined. */
  #rebalance: unknown;
  /** Batches being handled. */
  #active = 0;
  #joined = false;
  #onJoin: (() => void) | undefined;
  #onFail: ((error: unknown) => void) | undefined;
  #lastCrash: unknown;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #restarts = 0;

  constructor(
    kafka: Kafka,
    options: KafkaDriverOptions,
    consume: ConsumeOptions,
    handle: RecordHandler,
    onClosed: () => void,
  ) {
    this.#options = options;
    this.#consume = consume;
    this.#onClosed = onClosed;
    this.#dispatcher = new Dispatcher(consume.concurrency, async (record) => {
      if (this.#halted) throw HALT;
      try {
        await handle(record);
      } catch (error) {
        this.#stopped = true;
        throw error;
      }
    });
    this.#consumer = kafka.consumer({
      groupId: consume.group,
      sessionTimeout: options.sessionTimeout,
      heartbeatInterval: options.heartbeatInterval,
      rebalanceTimeout: Math.max(REBALANCE_TIMEOUT, options.sessionTimeout),
      maxWaitTimeInMs: FETCH_MAX_WAIT,
      retry: {
        ...retryOptions(5, options),
        // kafkajs restarts a member that crashed on a retriable error (the
        // broker went away) unless told not to: only while we run.
        restartOnFailure: () => Promise.resolve(this.#closing === undefined),
      },
    });
    // The listeners stay: a join after close must still be undone.
    const { GROUP_JOIN, CRASH } = this.#consumer.events;
    this.#consumer.on(GROUP_JOIN, () => {
      this.#rebalance = undefined;
      this.#restarts = 0;
      if (this.#closing !== undefined) {
        // Joined while closing (a restart raced close): leave again.
        this.#consumer.disconnect().catch(() => {});
        return;
      }
      this.#joined = true;
      this.#onJoin?.();
    });
    this.#consumer.on(CRASH, (event) => {
      const { error, restart } = event.payload;
      this.#lastCrash = error;
      this.#rebalance = undefined;
      if (restart || this.#closing !== undefined) return;
      if (!this.#joined) {
        this.#onFail?.(error);
        return;
      }
      // kafkajs gives up on errors it deems fatal; a member that ran keeps
      // trying, slower and slower, until closed.
      const wait = Math.min(30_000, 1_000 * 2 ** this.#restarts++);
      this.#restartTimer = setTimeout(() => {
        this.#restartTimer = undefined;
        if (this.#closing === undefined) this.#run().catch(() => {});
      }, wait);
    });
  }

  get #halted(): boolean {
    return this.#stopped || this.#closing !== undefined ||
      this.#rebalance !== undefined;
  }

  /** The longest a member may take to join (other members may be busy). */
  get #joinDeadline(): number {
    const { connectionTimeout, requestTimeout, sessionTimeout } = this.#options;
    return connectionTimeout + requestTimeout +
      Math.max(REBALANCE_TIMEOUT, sessionTimeout);
  }

  /** Joins the group; resolves once the member has its assignment. */
  async start(): Promise<void> {
    const { group, topics, from } = this.#consume;
    const joined = new Promise<void>((resolve, reject) => {
      this.#onJoin = resolve;
      this.#onFail = reject;
    });
    joined.catch(() => {});
    // kafkajs looks the end of a partition up ("latest") at the first fetch
    // after the join, not at the join: until that fetch is done, a record
    // published now might count as old and be skipped.
    let removeFetched = () => {};
    const fetched = new Promise<void>((resolve) => {
      removeFetched = this.#consumer.on(
        this.#consumer.events.FETCH,
        () => resolve(),
      );
    });
    const ms = this.#joinDeadline;
    try {
      await withDeadline(
        (async () => {
          await this.#consumer.connect();
          await this.#consumer.subscribe({
            topics,
            fromBeginning: from === "earliest",
          });
          await this.#run();
          await joined;
          if (from === "latest") await fetched;
        })(),
        ms,
        () =>
          this.#lastCrash === undefined
            ? timeout(
              `kafka consume: group ${JSON.stringify(group)} not joined ` +
                `within ${ms} ms`,
            )
            : kafkaError(this.#lastCrash, "consume", topics),
      );
    } catch (error) {
      await this.close();
      throw kafkaError(error, "consume", topics);
    } finally {
      this.#onJoin = this.#onFail = undefined;
      removeFetched();
    }
  }

  #run(): Promise<void> {
    return this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(
        1,
        Math.floor(this.#consume.concurrency),
      ),
      eachBatch: (payload) => this.#eachBatch(payload),
    });
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (this.#stopped || this.#closing !== undefined) {
      payload.pause();
      return;
    }
    if (batch.messages.length === 0) return;
    const records = batch.messages.map((message) => toRecord(batch, message));
    this.#active++;
    const every = Math.max(50, Math.floor(this.#options.heartbeatInterval / 2));
    const heartbeat = setInterval(() => {
      payload.heartbeat().catch((error) => {
        if (isRebalance(error) && this.#active > 0) this.#rebalance ??= error;
      });
    }, every);
    let handled: number;
    try {
      handled = await this.#dispatcher.run(records);
    } finally {
      clearInterval(heartbeat);
      this.#active--;
    }
    if (handled > 0) {
      // kafkajs moves the fetch position past the handled records (and past
      // trailing control records when the batch is done).
      payload.resolveOffset(records[handled - 1].offset);
      const last = handled === records.length
        ? batch.lastOffset()
        : records[handled - 1].offset;
      await this.#commit(payload, batch, next(last));
    }
    if (handled < records.length) {
      if (this.#stopped || this.#closing !== undefined) {
        payload.pause(); // fetch no more of it; the rest is redelivered
        return;
      }
    }
    // Rejoin now rather than at the next heartbeat.
    if (this.#rebalance !== undefined) throw this.#rebalance;
  }

  async #commit(
    payload: EachBatchPayload,
    batch: Batch,
    offset: string,
  ): Promise<void> {
    const offsets = {
      topics: [{
        topic: batch.topic,
        partitions: [{ partition: batch.partition, offset }],
      }],
    };
    for (let attempt = 0;; attempt++) {
      try {
        // With offsets, this commits at once (even while stopping).
        await payload.commitOffsetsIfNecessary(offsets);
        return;
      } catch (error) {
        if (isRebalance(error)) {
          // Dropped from the group: another member has the partition now
          // and starts from the last commit. Rejoin.
          this.#rebalance ??= error;
          throw error;
        }
        if (attempt >= COMMIT_RETRY_DELAYS.length) {
          // The next commit of the partition covers these records; if there
          // is none, they are delivered again (at least once).
          return;
        }
        await delay(COMMIT_RETRY_DELAYS[attempt]);
      }
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearTimeout(this.#restartTimer);
    this.#onFail?.(canceled("kafka consume: closed while joining"));
    try {
      // Stops fetching, waits for the batches in flight (whose records not
      // yet started are skipped, see #halted), leaves the group.
      await this.#consumer.disconnect();
    } catch {
      // Leaving failed (the broker is gone): the group drops us after the
      // session timeout.
    }
    this.#onClosed();
  }
}
