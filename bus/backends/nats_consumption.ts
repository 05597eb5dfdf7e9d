// A group's consumption of its topics on JetStream: one durable pull
// consumer per group and topic (explicit acks), messages handed over as they
// arrive, one key at a time and at most `concurrency` at once. A message is
// acknowledged once handled, terminated once dead-lettered, and while held
// it is kept from redelivery (`working`). What a closing consumption did not
// finish is returned (`nak`) once its pulls have ended, so that it goes to
// another member at once, not after the acknowledgement deadline.
import { createHash } from "node:crypto";
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  type JsMsg,
} from "@nats-io/jetstream";
import type { CqiError } from "@cqi/errors";
import type {
  ConsumeOptions,
  Consumption,
  IncomingRecord,
  RecordHandler,
} from "./driver.ts";
import {
  type Connected,
  KEY_HEADER,
  type NatsDriverOptions,
} from "./nats_options.ts";
import { Slots } from "../slots.ts";
import { natsError } from "./nats_error.ts";

/**
 * Messages a pull asks for, per handler slot. Each one a closing member
 * returns unstarted counts as a delivery, so the prefetch stays small.
 */
const PREFETCH_PER_SLOT = 4;
/**
 * How long a pull request lives on the server. A closed consumption's last
 * request outlives it there for up to this long, and the server would hand
 * a returned message to it (lost until its acknowledgement deadline): so
 * messages are returned only once it expired. It bounds that wait in
 * `close()`; a shorter one costs more idle requests.
 */
const PULL_EXPIRES = 2_000;

const ns = (ms: number) => Math.round(ms * 1e6);
/** A max_deliver the server takes with a backoff, and never reaches. */
const UNLIMITED = 2 ** 31 - 1;
/** How often the acknowledgement floors are read (for a consumer made again). */
const FLOOR_EVERY = 5_000;

/**
 * The durable consumer's name of `group` on `topic`: readable, within the
 * server's rules (no `.`, `*`, `>`, spaces), and distinct for every pair.
 */
export function durableName(group: string, topic: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 60);
  const hash = createHash("sha256").update(`${group}\n${topic}`).digest("hex")
    .slice(0, 16);
  return `${safe(group)}__${safe(topic)}__${hash}`;
}

function toRecord(message: JsMsg, maxDeliver: number): IncomingRecord {
  const headers: Record<string, string> = {};
  let key: string | undefined;
  let h: JsMsg["headers"];
  try {
    h = message.headers;
  } catch {
    h = undefined; // a header nats.js cannot parse: the value still goes on
  }
  if (h !== undefined) {
    for (const name of h.keys()) {
      const c = name.charCodeAt(0) | 0x20; // lower case
      if (c === 0x6e && /^nats-/i.test(name)) continue; // the server's own
      if (c === 0x63 && name.toLowerCase() === KEY_HEADER) {
        key ??= decodeKey(h.get(name));
      } else if (name === "__proto__") {
        Object.defineProperty(headers, name, {
          value: h.get(name),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else headers[name] = h.get(name);
    }
  }
  const info = message.info; // parsed once from the reply subject
  const deliveries = info.deliveryCount;
  return {
    topic: message.subject,
    partition: 0,
    offset: String(info.streamSequence),
    key,
    value: message.data ?? new Uint8Array(0),
    headers,
    timestamp: Math.floor(info.timestampNanos / 1e6),
    lag: Number.isFinite(info.pending) ? info.pending : undefined,
    ...(deliveries > maxDeliver ? { exhausted: deliveries - 1 } : {}),
  };
}

// The key as the driver encodes it; a foreign producer's as it is.
function decodeKey(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A group's durable consumers of its topics. */
export class NatsConsumption implements Consumption {
  readonly #connected: Connected;
  readonly #options: NatsDriverOptions;
  readonly #consume: ConsumeOptions;
  readonly #handle: RecordHandler;
  readonly #onClosed: () => void;
  /** Creates the stream again (it was deleted, or lost with the server's store). */
  readonly #restoreStream: () => Promise<void>;
  readonly #pulls: ConsumerMessages[] = [];
  /** Each topic's durable consumer's acknowledgement floor, as last read. */
  readonly #floors = new Map<string, number>();
  /** The stream's creation time when the consumers were made. */
  #streamCreated: string | undefined;
  #reading: ReturnType<typeof setInterval> | undefined;
  /** Why a lost durable consumer could not be made again, for check(). */
  problem: CqiError | undefined;
  /** Received and not yet acknowledged, terminated or returned. */
  readonly #held = new Set<JsMsg>();
  /** The last message's run of each key (`""`: keyless). */
  readonly #lanes = new Map<string, Promise<void>>();
  readonly #runs = new Set<Promise<void>>();
  readonly #slots: Slots;
  /** `handle` rejected: the consumer is stopping; handle nothing more. */
  #stopped = false;
  #closing: Promise<void> | undefined;
  #working: ReturnType<typeof setInterval> | undefined;
  /** Handled messages whose acknowledgement (or `term`) the next tick sends. */
  readonly #settled: [JsMsg, boolean][] = [];
  #flushing: ReturnType<typeof setTimeout> | undefined;

  constructor(
    connected: Connected,
    options: NatsDriverOptions,
    consume: ConsumeOptions,
    handle: RecordHandler,
    onClosed: () => void,
    restoreStream: () => Promise<void>,
  ) {
    this.#restoreStream = restoreStream;
    this.#connected = connected;
    this.#options = options;
    this.#consume = consume;
    this.#handle = handle;
    this.#slots = new Slots(consume.concurrency);
    this.#onClosed = onClosed;
  }

  /** Creates or updates the durable consumers, then starts pulling. */
  async start(): Promise<void> {
    const { js, jsm } = this.#connected;
    const stream = this.#options.stream.name;
    const c = this.#options.consumer;
    this.#streamCreated = (await jsm.streams.info(stream)).created;
    for (const topic of this.#consume.topics) {
      const name = durableName(this.#consume.group, topic);
      const settings = {
        ack_wait: ns(c.ackWait),
        // Unlimited: the bus dead-letters a message delivered more than
        // maxDeliver times itself, so a letter that cannot be sent yet is
        // delivered again rather than dropped by the server. (With a
        // backoff the server wants a number above the backoff's length.)
        max_deliver: c.backoff.length > 0 ? UNLIMITED : -1,
        max_ack_pending: c.maxAckPending,
        ...(c.backoff.length > 0 ? { backoff: c.backoff.map(ns) } : {}),
      };
      const config: Partial<ConsumerConfig> = {
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        filter_subject: topic,
        deliver_policy: this.#consume.from === "earliest"
          ? DeliverPolicy.All
          : DeliverPolicy.New,
        ...settings,
      };
      await this.#ensureConsumer(stream, name, config, settings);
      if (this.#closing !== undefined) return;
      const consumer = await js.consumers.get(stream, name);
      const pull = await consumer.consume({
        max_messages: Math.min(
          c.maxAckPending,
          Math.max(
            64,
            Math.min(256, PREFETCH_PER_SLOT * this.#consume.concurrency),
          ),
        ),
        expires: PULL_EXPIRES,
        callback: (message) => this.#receive(message),
      });
      this.#pulls.push(pull);
      this.#restoreOnLoss(pull, topic, config, settings);
    }
    // Held messages tell the server they are in hand, well within its
    // acknowledgement deadline (the shortest of ack_wait and the backoff).
    const deadline = Math.min(c.ackWait, ...c.backoff);
    this.#working = setInterval(() => {
      for (const message of this.#held) message.working();
    }, Math.max(20, Math.floor(deadline / 3)));
    (this.#working as { unref?: () => void }).unref?.();
    await this.#readFloors();
    this.#reading = setInterval(() => void this.#readFloors(), FLOOR_EVERY);
    (this.#reading as { unref?: () => void }).unref?.();
  }

  async #ensureConsumer(
    stream: string,
    name: string,
    config: Partial<ConsumerConfig>,
    settings: Partial<ConsumerConfig>,
  ): Promise<void> {
    const { jsm } = this.#connected;
    let existing: ConsumerConfig | undefined;
    try {
      existing = (await jsm.consumers.info(stream, name)).config;
    } catch (error) {
      const e = error as { name?: unknown; code?: unknown } | null;
      if (e?.name !== "ConsumerNotFoundError" && e?.code !== 10014) throw error;
    }
    if (existing === undefined) {
      await jsm.consumers.add(stream, config);
      return;
    }
    const differs = Object.entries(settings).some(([field, value]) =>
      JSON.stringify(existing[field as keyof ConsumerConfig]) !==
        JSON.stringify(value)
    );
    if (differs) await jsm.consumers.update(stream, name, settings);
  }

  // A durable consumer deleted, or its stream (by hand, or lost with the
  // server's store), is made again; nats.js's pull goes on once it exists.
  // On the same stream it resumes at the first message not known to be
  // settled (the group's acknowledgement floor, as last read, or a message
  // this member still holds): some come twice, none is skipped. On a new
  // stream (its creation time differs) it starts at its beginning.
  #restoreOnLoss(
    pull: ConsumerMessages,
    topic: string,
    config: Partial<ConsumerConfig>,
    settings: Partial<ConsumerConfig>,
  ): void {
    const stream = this.#options.stream.name;
    (async () => {
      for await (const status of pull.status()) {
        if (this.#closing !== undefined) return;
        if (
          status.type !== "consumer_deleted" &&
          status.type !== "consumer_not_found" &&
          status.type !== "stream_not_found"
        ) continue;
        try {
          if (status.type === "stream_not_found") await this.#restoreStream();
          const { created } = await this.#connected.jsm.streams.info(stream);
          const start = created === this.#streamCreated
            ? this.#resumeAt(topic)
            : undefined;
          await this.#ensureConsumer(stream, config.durable_name!, {
            ...config,
            ...(start === undefined ? { deliver_policy: DeliverPolicy.All } : {
              deliver_policy: DeliverPolicy.StartSequence,
              opt_start_seq: start,
            }),
          }, settings);
          this.#streamCreated = created;
          this.problem = undefined;
        } catch (error) {
          // Said by check(); the pull's next notification tries again.
          this.problem = natsError(error, "consume (restoring)", [topic]);
        }
      }
    })().catch(() => {});
  }

  /** The first sequence of `topic` not known to be settled, if known. */
  #resumeAt(topic: string): number | undefined {
    const floor = this.#floors.get(topic);
    let low = floor === undefined ? undefined : floor + 1;
    for (const message of this.#held) {
      if (
        message.subject === topic && (low === undefined || message.seq < low)
      ) {
        low = message.seq;
      }
    }
    return low;
  }

  // Reads each durable consumer's acknowledgement floor, for #resumeAt.
  async #readFloors(): Promise<void> {
    const stream = this.#options.stream.name;
    for (const topic of this.#consume.topics) {
      const name = durableName(this.#consume.group, topic);
      try {
        const info = await this.#connected.jsm.consumers.info(stream, name);
        this.#floors.set(topic, info.ack_floor.stream_seq);
      } catch {
        // kept as last read
      }
    }
  }

  // Called by nats.js for each message, in stream order; never throws.
  #receive(message: JsMsg): void {
    if (this.#stopped || this.#closing !== undefined) {
      this.#held.add(message); // returned by close()
      return;
    }
    let record: IncomingRecord;
    try {
      record = toRecord(message, this.#options.consumer.maxDeliver);
    } catch {
      message.term(); // unreadable metadata: nothing could handle it
      return;
    }
    this.#held.add(message);
    const lane = record.key === undefined ? "" : `k${record.key}`;
    const before = this.#lanes.get(lane);
    const run = before === undefined
      ? this.#run(message, record)
      : before.then(() => this.#run(message, record));
    this.#lanes.set(lane, run);
    this.#runs.add(run);
    run.then(() => {
      this.#runs.delete(run);
      if (this.#lanes.get(lane) === run) this.#lanes.delete(lane);
    });
  }

  // Acknowledges (or terminates) on the next tick, together with the others
  // settled meanwhile: nats.js writes what one tick queued at once, so a
  // flood of messages costs a write per tick rather than per message.
  #settle(message: JsMsg, terminate: boolean): void {
    this.#settled.push([message, terminate]);
    this.#flushing ??= setTimeout(() => this.#flush(), 0);
  }

  #flush(): void {
    clearTimeout(this.#flushing);
    this.#flushing = undefined;
    for (const [message, terminate] of this.#settled.splice(0)) {
      if (terminate) message.term();
      else message.ack();
    }
  }

  // Handles one message and settles it with the server; never rejects.
  async #run(message: JsMsg, record: IncomingRecord): Promise<void> {
    await this.#slots.acquire();
    try {
      if (this.#stopped) throw new Error("stopped");
      const outcome = await this.#handle(record);
      this.#held.delete(message);
      this.#settle(message, outcome === "dead-lettered");
    } catch {
      this.#stopped = true; // held: close() returns it
    } finally {
      this.#slots.release();
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // No more pulls, then the handlers in flight finish (those not started
    // are stopped by the bus), then what is left goes back to the server.
    await Promise.allSettled(this.#pulls.map((pull) => pull.close()));
    const expired = Date.now() + PULL_EXPIRES + 100;
    while (this.#runs.size > 0) await Promise.allSettled([...this.#runs]);
    this.#flush();
    if (this.#held.size > 0) {
      // Kept from redelivery meanwhile (`working`); returned once no
      // request of ours is left on the server to take them.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, expired - Date.now()))
      );
      for (const message of this.#held) message.nak();
      this.#held.clear();
    }
    clearInterval(this.#working);
    clearInterval(this.#reading);
    this.#onClosed();
  }
}
