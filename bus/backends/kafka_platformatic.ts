// A Kafka driver over @platformatic/kafka (pure JavaScript; runs on Deno and
// Bun, not on Node 20).
//
// Producer: idempotent (acks all, one request in flight per broker), with
// bounded retries and an overall deadline, Java-compatible key partitioning.
//
// Consumer: one Consumer (one group member) per consumption, autocommit off.
// The library does not revoke partitions: on a rebalance its heartbeat just
// sends JoinGroup again while the application still handles the records it
// already got, and its MessagesStream keeps records fetched for the old
// assignment. So this driver hooks the one callback the library awaits
// before every JoinGroup (`protocolsMetadata`): there it stops starting
// records, closes the stream (dropping what it buffered), waits for the
// handlers in flight (heartbeating by hand meanwhile, since the library
// stopped), commits what they finished, and only then lets the JoinGroup go.
// After the join it opens a new stream, which starts at the committed
// offsets of the new assignment.
import { Buffer } from "node:buffer";
import { tracingChannel } from "node:diagnostics_channel";
import {
  Admin,
  compatibilityPartitioner,
  Consumer,
  heartbeatV4,
  type Message,
  type MessagesStream,
  Producer,
  TimeoutError,
} from "@platformatic/kafka";
import {
  canceled,
  CqiError,
  invalidInput,
  permanent,
  temporary,
  timeout,
  unauthorized,
} from "@cqi/errors";
import { Dispatcher } from "../dispatch.ts";
import type {
  BusDriver,
  ConsumeOptions,
  Consumption,
  IncomingRecord,
  OutgoingRecord,
  RecordHandler,
} from "./driver.ts";
import type { KafkaDriverOptions } from "./kafka_options.ts";

type Bytes = Buffer;
type KafkaConsumer = Consumer<Bytes, Bytes, Bytes, Bytes>;
type KafkaStream = MessagesStream<Bytes, Bytes, Bytes, Bytes>;
type KafkaMessage = Message<Bytes, Bytes, Bytes, Bytes>;

/** Attempts after the first, for every request the library retries. */
const RETRIES = 4;
/** Records fetched but not yet handled before the stream is paused. */
const MAX_QUEUED = 4096;
/** The stream resumes when the queued records drop below this. */
const RESUME_QUEUED = 1024;
const EMPTY = Buffer.alloc(0);
const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** 200, 400, 800, ... ms, at most 2 s (attempt counts from 1). */
function backoff(attempt: number): number {
  return Math.min(2_000, 200 * 2 ** Math.max(0, attempt - 1));
}

function noop(): void {}

/** A Kafka {@linkcode BusDriver} over `@platformatic/kafka`. */
export function platformaticDriver(options: KafkaDriverOptions): BusDriver {
  return new PlatformaticDriver(options);
}

class PlatformaticDriver implements BusDriver {
  readonly system = "kafka";
  readonly #options: KafkaDriverOptions;
  readonly #consumptions = new Set<PlatformaticConsumption>();
  /** Topics known to exist, with leaders. */
  readonly #ensured = new Set<string>();
  #producer: Producer<Bytes, Bytes, Bytes, Bytes> | undefined;
  #admin: Admin | undefined;
  /** Checks make one attempt: a client of their own, without retries. */
  #checker: Admin | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: KafkaDriverOptions) {
    this.#options = options;
  }

  async publish(records: OutgoingRecord[]): Promise<void> {
    if (this.#closing) throw canceled("bus closed");
    if (records.length === 0) return;
    let messages: ReturnType<typeof toMessage>[];
    try {
      messages = records.map(toMessage);
    } catch (error) {
      throw invalidInput("kafka publish: malformed record", { cause: error });
    }
    // A topic nobody created yet is created as ensureTopics does (with the
    // configured partitions); the producer would only retry on it.
    const fresh = [...new Set(records.map((r) => r.topic))].filter((topic) =>
      !this.#ensured.has(topic)
    );
    if (fresh.length > 0) {
      try {
        await this.ensureTopics(fresh);
      } catch (error) {
        // Without the right to list or create topics the send may still
        // work; anything else would fail it too.
        if ((error as CqiError).kind !== "unauthorized") {
          throw kafkaError((error as CqiError).cause ?? error, "publish");
        }
      }
    }
    const o = this.#options;
    // The library's retries end sooner; this only guards against a hang.
    const limit = 3 * o.requestTimeout + o.connectionTimeout + 3_000;
    try {
      await withDeadline(
        this.#producerClient().send({ messages }),
        limit,
        () => timeout(`kafka publish took longer than ${limit} ms`),
      );
    } catch (error) {
      throw kafkaError(error, "publish");
    }
  }

  async ensureTopics(topics: string[]): Promise<void> {
    if (this.#closing) throw canceled("bus closed");
    const wanted = [...new Set(topics)];
    if (wanted.length === 0) return;
    const o = this.#options;
    const admin = this.#adminClient();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = wanted.filter((topic) => !existing.has(topic));
      if (missing.length > 0) {
        try {
          await admin.createTopics({
            topics: missing,
            partitions: o.partitions ?? -1,
            replicas: -1,
          });
        } catch (error) {
          // Created meanwhile by another client: fine.
          const ids = protocolIds(error);
          if (
            ids.length === 0 || ids.some((id) => id !== "TOPIC_ALREADY_EXISTS")
          ) throw error;
        }
      }
      await this.#awaitLeaders(admin, wanted);
      for (const topic of wanted) this.#ensured.add(topic);
    } catch (error) {
      throw kafkaError(error, "ensure topics");
    }
  }

  // Polls the metadata until every partition of `topics` has a leader.
  async #awaitLeaders(admin: Admin, topics: string[]): Promise<void> {
    const o = this.#options;
    const deadline = performance.now() +
      Math.max(5_000, o.requestTimeout + o.connectionTimeout);
    let last: unknown;
    for (let attempt = 1;; attempt++) {
      try {
        const metadata = await admin.metadata({
          topics,
          forceUpdate: true,
          retries: 0,
        });
        const ready = topics.every((name) => {
          const topic = metadata.topics.get(name);
          return topic !== undefined && topic.partitionsCount > 0 &&
            topic.partitions.length === topic.partitionsCount &&
            topic.partitions.every((p) => p !== undefined && p.leader >= 0);
        });
        if (ready) return;
        last = undefined;
      } catch (error) {
        if (!retriable(error)) throw error;
        last = error;
      }
      if (this.#closing) throw canceled("bus closed");
      if (performance.now() > deadline) {
        throw last ?? temporary("kafka topics have no leader yet");
      }
      await sleep(Math.min(500, 50 * attempt));
    }
  }

  async consume(
    options: ConsumeOptions,
    handle: RecordHandler,
  ): Promise<Consumption> {
    if (this.#closing) throw canceled("bus closed");
    let consumption: PlatformaticConsumption;
    try {
      consumption = new PlatformaticConsumption(
        this.#options,
        options,
        handle,
        () => this.#consumptions.delete(consumption),
      );
    } catch (error) {
      // the library validates the group settings in its constructor
      throw kafkaError(error, "consume");
    }
    this.#consumptions.add(consumption);
    try {
      await consumption.start();
    } catch (error) {
      await consumption.close();
      throw kafkaError(error, "join the consumer group");
    }
    return consumption;
  }

  async check(signal?: AbortSignal): Promise<void> {
    if (this.#closing) throw canceled("bus closed");
    if (signal?.aborted) throw aborted(signal);
    const o = this.#options;
    const limit = o.connectionTimeout + o.requestTimeout;
    try {
      await withDeadline(
        this.#checkClient().metadata({
          topics: [],
          forceUpdate: true,
          retries: 0,
        }),
        limit,
        () => timeout(`kafka did not answer within ${limit} ms`),
        signal,
      );
    } catch (error) {
      throw kafkaError(error, "check");
    }
  }

  close(): Promise<void> {
    return this.#closing ??= (async () => {
      await Promise.all([...this.#consumptions].map((c) => c.close()));
      await Promise.all([
        this.#producer?.close(true).catch(noop),
        this.#admin?.close().catch(noop),
        this.#checker?.close().catch(noop),
      ]);
    })();
  }

  #producerClient(): Producer<Bytes, Bytes, Bytes, Bytes> {
    // Created on first use; it connects on its first send, and a failed
    // send resets its producer id and connections, so nothing sticks.
    this.#producer ??= withErrorListener(
      new Producer<Bytes, Bytes, Bytes, Bytes>({
        ...baseOptions(this.#options),
        idempotent: true,
        acks: -1,
        retries: RETRIES,
        // murmur2 & 0x7fffffff: the partition Java clients and kafkajs pick.
        partitioner: compatibilityPartitioner,
      }),
    );
    return this.#producer;
  }

  #adminClient(): Admin {
    this.#admin ??= withErrorListener(
      new Admin(baseOptions(this.#options)),
    );
    return this.#admin;
  }

  #checkClient(): Admin {
    this.#checker ??= withErrorListener(
      new Admin({ ...baseOptions(this.#options), retries: 0 }),
    );
    return this.#checker;
  }
}

function baseOptions(o: KafkaDriverOptions) {
  return {
    clientId: o.clientId,
    bootstrapBrokers: o.brokers,
    connectTimeout: o.connectionTimeout,
    requestTimeout: o.requestTimeout,
    timeout: o.requestTimeout,
    retries: RETRIES,
    retryDelay: (
      _client: unknown,
      _operation: string,
      attempt: number,
    ): number => backoff(attempt),
  };
}

// An EventEmitter throws an 'error' event nobody listens to.
function withErrorListener<T extends { on(e: "error", l: () => void): T }>(
  client: T,
): T {
  client.on("error", noop);
  return client;
}

function toMessage(record: OutgoingRecord) {
  const headers = new Map<Bytes, Bytes>();
  for (const [name, value] of Object.entries(record.headers)) {
    headers.set(Buffer.from(name, "utf8"), Buffer.from(value, "utf8"));
  }
  const value = record.value;
  return {
    topic: record.topic,
    key: record.key === undefined ? undefined : Buffer.from(record.key, "utf8"),
    value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
    headers,
  };
}

/** Committed offsets waiting to be sent: at most one commit in flight. */
class Committer {
  readonly #consumer: KafkaConsumer;
  readonly #pending = new Map<
    string,
    {
      topic: string;
      partition: number;
      offset: bigint;
      leaderEpoch: number;
      epoch: number;
    }
  >();
  #inflight: Promise<void> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #stopped = false;

  constructor(consumer: KafkaConsumer) {
    this.#consumer = consumer;
  }

  add(
    topic: string,
    partition: number,
    offset: bigint,
    leaderEpoch: number,
    epoch: number,
  ): void {
    const key = `${topic}:${partition}`;
    const current = this.#pending.get(key);
    if (current === undefined || current.offset < offset) {
      this.#pending.set(key, { topic, partition, offset, leaderEpoch, epoch });
    }
    this.#kick();
  }

  /** Forgets the offsets of partitions handled before `epoch`. */
  dropBefore(epoch: number): void {
    for (const [key, entry] of this.#pending) {
      if (entry.epoch < epoch) this.#pending.delete(key);
    }
  }

  /** Resolves once what is pending now was committed or failed once. */
  async flush(): Promise<void> {
    for (let round = 0; round < 2; round++) {
      if (this.#inflight) await this.#inflight;
      if (this.#pending.size === 0) return;
      this.#kick();
    }
    await this.#inflight;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
  }

  #kick(): void {
    if (this.#inflight || this.#pending.size === 0) return;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#inflight = this.#commit().finally(() => {
      this.#inflight = undefined;
    });
  }

  async #commit(): Promise<void> {
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    try {
      await this.#consumer.commit({
        offsets: batch.map(({ topic, partition, offset, leaderEpoch }) => ({
          topic,
          partition,
          offset,
          leaderEpoch,
        })),
      });
      this.#failures = 0;
    } catch {
      // Keep what no newer offset replaced, and try again later.
      for (const entry of batch) {
        const key = `${entry.topic}:${entry.partition}`;
        const current = this.#pending.get(key);
        if (current === undefined || current.offset < entry.offset) {
          this.#pending.set(key, entry);
        }
      }
      this.#failures++;
      if (!this.#stopped) {
        this.#retry = setTimeout(() => this.#kick(), backoff(this.#failures));
      }
      return;
    }
    if (this.#pending.size > 0) {
      // committed more meanwhile: send it after this one
      queueMicrotask(() => this.#kick());
    }
  }
}

interface Lane {
  readonly topic: string;
  readonly partition: number;
  readonly epoch: number;
  queue: { record: IncomingRecord; leaderEpoch: number }[];
  running: boolean;
  /** A handler rejected: nothing more of this partition until a rebalance. */
  halted: boolean;
}

type Phase = "starting" | "running" | "idle" | "closing" | "closed";

class PlatformaticConsumption implements Consumption {
  readonly #driverOptions: KafkaDriverOptions;
  readonly #options: ConsumeOptions;
  readonly #consumer: KafkaConsumer;
  readonly #committer: Committer;
  readonly #dispatcher: Dispatcher;
  readonly #onClosed: () => void;
  readonly #joinOptions: {
    sessionTimeout: number;
    rebalanceTimeout: number;
    heartbeatInterval: number;
  };
  readonly #highWatermarks = new Map<string, bigint>();
  readonly #fetches;
  readonly #fetchSubscriber;

  #phase: Phase = "starting";
  /** Counts interruptions: records and streams of an older epoch are stale. */
  #epoch = 0;
  /** Whether handlers may start (false while revoking or closing). */
  #accepting = false;
  #stream: KafkaStream | undefined;
  #pausedByUs = false;
  readonly #retired = new Set<Promise<void>>();
  #lanes = new Map<string, Lane>();
  readonly #pumps = new Set<Promise<void>>();
  #queued = 0;
  /** Resolves when the handlers of the last interruption finished. */
  #idle: Promise<void> = Promise.resolve();
  /** The last interruption: handlers finished and offsets committed. */
  #interrupting: Promise<void> | undefined;
  #flushing = false;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #rejoinTimer: ReturnType<typeof setTimeout> | undefined;
  #restarts = 0;
  #joined: { resolve: () => void; promise: Promise<void> };
  #closing: Promise<void> | undefined;

  constructor(
    driverOptions: KafkaDriverOptions,
    options: ConsumeOptions,
    handle: RecordHandler,
    onClosed: () => void,
  ) {
    this.#driverOptions = driverOptions;
    this.#options = options;
    this.#onClosed = onClosed;
    const sessionTimeout = driverOptions.sessionTimeout;
    this.#joinOptions = {
      sessionTimeout,
      // How long the group waits for members to finish their records and
      // rejoin; a slower member is dropped (and its partitions move).
      rebalanceTimeout: Math.max(sessionTimeout, 60_000),
      heartbeatInterval: driverOptions.heartbeatInterval,
    };
    this.#consumer = new Consumer<Bytes, Bytes, Bytes, Bytes>({
      ...baseOptions(driverOptions),
      groupId: options.group,
      ...this.#joinOptions,
      autocommit: false,
      maxWaitTime: Math.max(
        100,
        Math.min(5_000, Math.floor(driverOptions.requestTimeout / 2)),
      ),
      protocolsMetadata: (_protocols, _topics, _metadata, callback) => {
        this.#beforeJoin().then(
          () => callback(null, EMPTY),
          () => callback(null, EMPTY),
        );
        return undefined;
      },
    });
    this.#consumer.on("error", (error: Error) => this.#onRejoinFailed(error));
    this.#consumer.on("consumer:group:join", () => this.#onJoin());
    this.#committer = new Committer(this.#consumer);
    // Records of a revoked or stopping consumption are refused here: the
    // dispatcher then starts nothing more of that batch.
    this.#dispatcher = new Dispatcher(
      options.concurrency,
      (record) => this.#accepting ? handle(record) : Promise.reject(STOPPED),
    );
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#joined = { resolve, promise };
    // The high watermark of each partition, from the fetch responses (the
    // messages themselves do not carry it).
    this.#fetches = tracingChannel("plt:kafka:consumer:fetches");
    this.#fetchSubscriber = {
      start: noop,
      end: noop,
      asyncEnd: noop,
      error: noop,
      asyncStart: (context: unknown) => this.#onFetched(context),
    };
    this.#fetches.subscribe(this.#fetchSubscriber);
  }

  /** Joins the group; resolves once the member has its assignment. */
  async start(): Promise<void> {
    const o = this.#driverOptions;
    // Subscribed once for the consumption's life: the streams come and go.
    this.#consumer.topics.trackAll(...this.#options.topics);
    const limit = this.#joinOptions.rebalanceTimeout + o.requestTimeout +
      o.connectionTimeout;
    const joining = this.#consumer.joinGroup({ ...this.#joinOptions });
    await withDeadline(
      Promise.all([joining, this.#joined.promise]),
      limit,
      () =>
        timeout(`joining group ${this.#options.group} took over ${limit} ms`),
    );
  }

  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  async #close(): Promise<void> {
    this.#phase = "closing";
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#rejoinTimer);
    const o = this.#driverOptions;
    try {
      await this.#interrupt();
      await this.#idle;
      await withDeadline(
        this.#interrupting ?? Promise.resolve(),
        2 * (o.requestTimeout + o.connectionTimeout),
        () => timeout("commit on close"),
      ).catch(noop);
    } finally {
      this.#committer.stop();
      this.#fetches.unsubscribe(this.#fetchSubscriber);
      await Promise.all(this.#retired);
      const limit = o.requestTimeout + o.connectionTimeout;
      for (let attempt = 0; attempt < 2 && !this.#consumer.closed; attempt++) {
        // Leaves the group (the partitions move at once), then disconnects.
        await withDeadline(
          this.#consumer.close(true),
          limit,
          () => timeout("leave group"),
        ).catch(noop);
      }
      this.#consumer.removeAllListeners("consumer:group:join");
      this.#phase = "closed";
      this.#onClosed();
    }
  }

  // The library calls this before every JoinGroup it sends (joining,
  // rejoining after a rebalance or after losing the membership). The group
  // does not complete the rebalance before this member's JoinGroup, so no
  // other member gets these partitions while their records run here.
  async #beforeJoin(): Promise<void> {
    for (;;) {
      if (this.#phase === "starting" || this.#phase === "closed") return;
      if (this.#phase === "running") void this.#interrupt();
      // Entered while offsets are being committed: the handlers are done
      // already, and this may be the commit's own rejoin; do not wait. Nor
      // when the member was dropped (no member id): its commits fail until
      // it rejoins, and one in flight waits for this very join.
      const flushing = this.#flushing || this.#consumer.memberId === null;
      const keepAlive = this.#keepAlive();
      try {
        await this.#idle;
        if (!flushing && this.#interrupting) {
          const o = this.#driverOptions;
          await withDeadline(
            this.#interrupting,
            o.requestTimeout,
            () => timeout("commit before rejoin"),
          ).catch(noop);
        }
      } finally {
        keepAlive();
      }
      // A join completed while this waited: drain again before this one.
      if (this.#phase !== "running") return;
    }
  }

  // The library stops heartbeating while it prepares a JoinGroup; the
  // broker still expires a member that has not rejoined after the session
  // timeout. Heartbeats keep it in the group while handlers finish.
  #keepAlive(): () => void {
    const consumer = this.#consumer;
    const beat = () => {
      const memberId = consumer.memberId;
      const coordinator = consumer.coordinatorId;
      const broker = coordinator === null
        ? undefined
        : consumer.currentMetadata?.brokers.get(coordinator);
      if (!memberId || broker === undefined || consumer.closed) return;
      try {
        consumer.connections.get(broker)
          .then((connection) =>
            heartbeatV4.api.async(
              connection,
              consumer.groupId,
              consumer.generationId,
              memberId,
              null,
            )
          )
          .catch(noop); // REBALANCE_IN_PROGRESS is the expected answer
      } catch {
        // the pool is closing
      }
    };
    const timer = setInterval(beat, this.#joinOptions.heartbeatInterval);
    return () => clearInterval(timer);
  }

  // Stops handling: refuses new records, drops the stream and what it
  // buffered, waits for the handlers in flight and commits what they did.
  #interrupt(): Promise<void> {
    if (this.#phase === "running" || this.#phase === "starting") {
      this.#phase = "idle";
    }
    if (!this.#accepting && this.#stream === undefined && this.#interrupting) {
      return this.#interrupting;
    }
    this.#accepting = false;
    const epoch = ++this.#epoch;
    this.#retireStream();
    for (const lane of this.#lanes.values()) lane.queue = [];
    this.#lanes = new Map();
    this.#queued = 0;
    const idle = Promise.all([...this.#pumps]).then(noop);
    this.#idle = idle;
    const interrupting = (async () => {
      await idle;
      this.#flushing = true;
      try {
        await this.#committer.flush();
      } finally {
        this.#flushing = false;
        // What did not commit belongs to partitions that may have moved.
        this.#committer.dropBefore(epoch);
      }
    })().catch(noop);
    this.#interrupting = interrupting;
    return interrupting;
  }

  #retireStream(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    this.#pausedByUs = false;
    if (stream === undefined) return;
    const closed = stream.close().catch(noop);
    this.#retired.add(closed);
    closed.then(() => this.#retired.delete(closed));
  }

  #onJoin(): void {
    if (this.#phase === "closing" || this.#phase === "closed") return;
    this.#restarts = 0;
    if (this.#phase === "running") {
      // joined without this member's hook having drained: drain now
      void this.#interrupt();
    }
    this.#resume().catch(noop);
  }

  // Handling again once the handlers of the last interruption are done: a
  // new stream starts at the committed offsets of the current assignment.
  async #resume(): Promise<void> {
    const epoch = this.#epoch;
    await this.#idle;
    if (
      epoch !== this.#epoch || this.#phase === "running" ||
      this.#phase === "closing" || this.#phase === "closed"
    ) return;
    this.#phase = "running";
    this.#accepting = true;
    let stream: KafkaStream;
    try {
      stream = await this.#consumer.consume({
        topics: this.#options.topics,
        mode: "committed",
        fallbackMode: this.#options.from,
        autocommit: false,
      });
    } catch (error) {
      if (epoch === this.#epoch && this.#phase === "running") {
        this.#restart(error);
      }
      return;
    }
    stream.on("error", noop); // handled below when it is the current one
    if (epoch !== this.#epoch || this.#phase !== "running") {
      const closed = stream.close().catch(noop);
      this.#retired.add(closed);
      closed.then(() => this.#retired.delete(closed));
      return;
    }
    this.#stream = stream;
    stream.on("error", (error: Error) => {
      if (stream === this.#stream) this.#restart(error);
    });
    // The positions are known once the stream has read the committed
    // offsets (or the end, or the start, of partitions with none).
    stream.once("offsets", () => {
      if (stream !== this.#stream) return;
      if (this.#options.from === "latest") {
        // Keeps where partitions with no committed offset start: otherwise
        // the next rebalance would start them at the (later) end again.
        for (const { topic, partitions } of this.#consumer.assignments ?? []) {
          for (const partition of partitions) {
            const offset = stream.offsetsCommitted.get(`${topic}:${partition}`);
            if (typeof offset === "bigint" && offset >= 0n) {
              this.#committer.add(topic, partition, offset, -1, epoch);
            }
          }
        }
      }
      this.#joined.resolve();
    });
    stream.on("data", (message: KafkaMessage) => {
      if (stream === this.#stream) this.#onMessage(message, epoch);
    });
  }

  // The stream failed (the broker unreachable past the retries): start a
  // new one from the committed offsets after a pause.
  #restart(_error: unknown): void {
    if (this.#phase !== "running") return;
    void this.#interrupt();
    const epoch = this.#epoch;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      if (epoch === this.#epoch && this.#phase === "idle") {
        this.#resume().catch(noop);
      }
    }, backoff(++this.#restarts));
  }

  // A rejoin failed: the library gave up on the group (no more heartbeats).
  #onRejoinFailed(_error: unknown): void {
    if (this.#phase === "closing" || this.#phase === "closed") return;
    void this.#interrupt();
    clearTimeout(this.#rejoinTimer);
    const rejoin = () => {
      if (this.#phase === "closing" || this.#phase === "closed") return;
      this.#consumer.joinGroup({ ...this.#joinOptions }).catch(() => {
        this.#rejoinTimer = setTimeout(rejoin, backoff(++this.#restarts));
      });
    };
    this.#rejoinTimer = setTimeout(rejoin, backoff(++this.#restarts));
  }

  #onFetched(context: unknown): void {
    const { client, result } = context as {
      client?: unknown;
      result?: {
        responses?: {
          topicId: string;
          partitions: { partitionIndex: number; highWatermark: bigint }[];
        }[];
      };
    };
    if (client !== this.#consumer || result?.responses === undefined) return;
    const metadata = this.#consumer.currentMetadata;
    for (const response of result.responses) {
      let name: string | undefined;
      for (const [topic, { id }] of metadata?.topics ?? []) {
        if (id === response.topicId || topic === response.topicId) {
          name = topic;
          break;
        }
      }
      if (name === undefined) continue;
      for (const { partitionIndex, highWatermark } of response.partitions) {
        if (typeof highWatermark === "bigint" && highWatermark >= 0n) {
          this.#highWatermarks.set(`${name}:${partitionIndex}`, highWatermark);
        }
      }
    }
  }

  #onMessage(message: KafkaMessage, epoch: number): void {
    if (!this.#accepting || epoch !== this.#epoch) return;
    const key = `${message.topic}:${message.partition}`;
    let lane = this.#lanes.get(key);
    if (lane === undefined) {
      lane = {
        topic: message.topic,
        partition: message.partition,
        epoch,
        queue: [],
        running: false,
        halted: false,
      };
      this.#lanes.set(key, lane);
    }
    if (lane.halted) return;
    lane.queue.push({
      record: toRecord(message, this.#highWatermarks.get(key)),
      leaderEpoch: message.leaderEpoch,
    });
    this.#queued++;
    if (this.#queued >= MAX_QUEUED && this.#stream && !this.#pausedByUs) {
      this.#pausedByUs = true;
      this.#stream.pause();
    }
    if (!lane.running) {
      lane.running = true;
      const pump = this.#pump(lane);
      this.#pumps.add(pump);
      const done = () => this.#pumps.delete(pump);
      pump.then(done, done);
    }
  }

  // Runs a partition's records batch after batch, in offset order, and
  // commits after each batch what was handled.
  async #pump(lane: Lane): Promise<void> {
    // let the rest of the fetch response arrive: one batch, not one record
    await Promise.resolve();
    try {
      while (
        lane.queue.length > 0 && !lane.halted && this.#accepting &&
        lane.epoch === this.#epoch
      ) {
        const batch = lane.queue;
        lane.queue = [];
        this.#queued -= batch.length;
        const handled = await this.#dispatcher.run(batch.map((e) => e.record));
        if (handled > 0) {
          const last = batch[handled - 1];
          this.#committer.add(
            lane.topic,
            lane.partition,
            BigInt(last.record.offset) + 1n,
            last.leaderEpoch,
            lane.epoch,
          );
        }
        if (handled < batch.length) {
          // Stopping: the rest is not committed and comes again later.
          lane.halted = true;
          this.#queued -= lane.queue.length;
          lane.queue = [];
        }
        if (
          this.#pausedByUs && this.#queued < RESUME_QUEUED && this.#stream
        ) {
          this.#pausedByUs = false;
          this.#stream.resume();
        }
      }
    } finally {
      lane.running = false;
    }
  }
}

const STOPPED = canceled("consumer stopping");

function toRecord(
  message: KafkaMessage,
  highWatermark: bigint | undefined,
): IncomingRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of message.headers) {
    const key = decode(name);
    const text = decode(value);
    if (key === "__proto__") {
      Object.defineProperty(headers, key, {
        value: text,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else headers[key] = text;
  }
  const key = message.key;
  const value = message.value;
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset.toString(),
    key: key === undefined || key === null ? undefined : decode(key),
    // a copy: the message's bytes are a view of the whole fetch response
    value: value ? new Uint8Array(value) : new Uint8Array(0),
    headers,
    timestamp: Number(message.timestamp),
    lag: highWatermark === undefined
      ? undefined
      : Math.max(0, Number(highWatermark - message.offset - 1n)),
  };
}

function decode(bytes: Uint8Array | string | null | undefined): string {
  if (bytes === undefined || bytes === null) return "";
  if (typeof bytes === "string") return bytes;
  return utf8.decode(bytes);
}

// ---- errors ----------------------------------------------------------------

interface LibraryError {
  name?: string;
  message?: string;
  code?: string;
  apiId?: string;
  canRetry?: boolean;
  closed?: boolean;
  errors?: unknown[];
  cause?: unknown;
}

/** Every error in `error`'s tree (itself, `errors` and `cause`). */
function errorTree(error: unknown, out: LibraryError[] = []): LibraryError[] {
  if (typeof error !== "object" || error === null || out.length > 64) {
    return out;
  }
  const e = error as LibraryError;
  if (out.includes(e)) return out;
  out.push(e);
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) errorTree(inner, out);
  }
  if (e.cause !== undefined) errorTree(e.cause, out);
  return out;
}

function protocolIds(error: unknown): string[] {
  return errorTree(error).flatMap((e) =>
    typeof e.apiId === "string" ? [e.apiId] : []
  );
}

function unknownTopic(error: unknown): boolean {
  return errorTree(error).some((e) =>
    e.apiId === "UNKNOWN_TOPIC_OR_PARTITION" ||
    (e.code === "PLT_KFK_USER" && /^Unknown topic /.test(e.message ?? ""))
  );
}

function retriable(error: unknown): boolean {
  const tree = errorTree(error);
  return tree.some((e) => e.canRetry === true || unknownTopic(e)) &&
    !tree.some((e) => e.closed === true);
}

const AUTH = new Set([
  "TOPIC_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
  "SASL_AUTHENTICATION_FAILED",
  "UNSUPPORTED_SASL_MECHANISM",
  "ILLEGAL_SASL_STATE",
  "DELEGATION_TOKEN_AUTHORIZATION_FAILED",
]);
const INVALID = new Set([
  "INVALID_TOPIC_EXCEPTION",
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "INVALID_PARTITIONS",
  "INVALID_REPLICATION_FACTOR",
  "INVALID_REPLICA_ASSIGNMENT",
  "INVALID_CONFIG",
  "POLICY_VIOLATION",
  "INVALID_GROUP_ID",
  "INVALID_SESSION_TIMEOUT",
  "INVALID_TIMESTAMP",
  "INVALID_REQUEST",
  "UNSUPPORTED_FOR_MESSAGE_FORMAT",
]);
const TIMED_OUT = new Set(["REQUEST_TIMED_OUT"]);

/** Maps an error of the library (or of this driver) to a `CqiError`. */
function kafkaError(error: unknown, what: string): CqiError {
  if (error instanceof CqiError) return error;
  const tree = errorTree(error);
  const ids = new Set(protocolIds(error));
  const options = { cause: error };
  if (
    tree.some((e) => e.code === "PLT_KFK_AUTHENTICATION") ||
    [...ids].some((id) => AUTH.has(id))
  ) {
    return unauthorized(`kafka ${what}: not authorized`, options);
  }
  if (tree.some((e) => e.closed === true)) {
    return canceled(`kafka ${what}: client closed`, options);
  }
  const invalid = [...ids].find((id) => INVALID.has(id));
  if (invalid !== undefined) {
    return invalidInput(`kafka ${what}: ${invalid}`, options);
  }
  if (
    tree.some((e) =>
      e instanceof TimeoutError || /timed out/i.test(e.message ?? "")
    ) ||
    [...ids].some((id) => TIMED_OUT.has(id))
  ) {
    return timeout(`kafka ${what}: timed out`, options);
  }
  if (
    tree.some((e) =>
      e.code === "PLT_KFK_NETWORK" || e.canRetry === true ||
      e.code === "PLT_KFK_UNSUPPORTED_API"
    ) || unknownTopic(error)
  ) {
    return temporary(`kafka ${what}: unavailable`, options);
  }
  if (tree.some((e) => e.code === "PLT_KFK_USER")) {
    return invalidInput(`kafka ${what}: rejected`, options);
  }
  return permanent(`kafka ${what} failed`, options);
}

function aborted(signal: AbortSignal): CqiError {
  const reason = signal.reason;
  if (reason instanceof CqiError) return reason;
  if ((reason as { name?: string } | undefined)?.name === "TimeoutError") {
    return timeout("kafka check timed out", { cause: reason });
  }
  return canceled("kafka check canceled", { cause: reason });
}

/**
 * Settles like `promise`, or rejects with `onTimeout()` after `ms`, or
 * when `signal` aborts. `promise` keeps a handler either way.
 */
function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => CqiError,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      reject(onTimeout());
    }, ms);
    const onAbort = () => {
      done();
      reject(aborted(signal!));
    };
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        done();
        resolve(value);
      },
      (error) => {
        done();
        reject(error);
      },
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
