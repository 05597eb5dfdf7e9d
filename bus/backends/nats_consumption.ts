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
  type Consumer,
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
  ns,
} from "./nats_options.ts";
import { Slots } from "../slots.ts";
import { isNotFound, natsError } from "./nats_error.ts";

/**
 * Messages a pull asks for, per handler slot. Each one a closing member
 * returns unstarted counts as a delivery, so the prefetch stays small.
 */
const PREFETCH_PER_SLOT = 4;
/**
 * How long a fetch request lives on the server (nats.js's shortest). A
 * closing consumption waits for its fetches to end, so this bounds close();
 * a shorter one would cost more idle requests.
 */
const PULL_EXPIRES = 1_000;

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
  /** The fetch loops, one per topic. */
  readonly #pulls: Promise<void>[] = [];
  /** Messages one fetch asks for. */
  readonly #batch: number;
  #roomy: (() => void) | undefined;
  /** The fetches in flight. */
  readonly #fetching = new Set<ConsumerMessages>();
  #pause: ReturnType<typeof setTimeout> | undefined;
  /** Each topic's durable consumer: its configuration, and what may change. */
  readonly #configs = new Map<
    string,
    { config: Partial<ConsumerConfig>; settings: Partial<ConsumerConfig> }
  >();
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
    this.#batch = Math.min(
      options.consumer.maxAckPending,
      Math.max(64, Math.min(256, PREFETCH_PER_SLOT * consume.concurrency)),
    );
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
      this.#configs.set(topic, { config, settings });
      this.#pulls.push(this.#pull(consumer, topic, config, settings));
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
      if (!isNotFound(error)) throw error;
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

  // Fetches one batch after another while the consumption runs, each a
  // request that lives at most PULL_EXPIRES and whose inbox stays open until
  // it ended: what the server sends to it is never lost, even while closing
  // (then it is held, and returned by close()). Waits while a batch's worth
  // is held, so that a closing member returns little unstarted.
  async #pull(
    consumer: Consumer,
    topic: string,
    config: Partial<ConsumerConfig>,
    settings: Partial<ConsumerConfig>,
  ): Promise<void> {
    let failures = 0;
    while (this.#closing === undefined && !this.#stopped) {
      await this.#room();
      if (this.#closing !== undefined || this.#stopped) return;
      try {
        const batch = await consumer.fetch({
          max_messages: this.#batch,
          expires: PULL_EXPIRES,
        });
        this.#fetching.add(batch);
        // The server ends a fetch at PULL_EXPIRES; one it never ends (its
        // stream or consumer deleted under it) is stopped a second later,
        // when nothing can come to it any more.
        const overdue = setTimeout(() => batch.stop(), PULL_EXPIRES + 1_000);
        try {
          for await (const message of batch) this.#receive(message);
        } finally {
          clearTimeout(overdue);
          this.#fetching.delete(batch);
        }
        failures = 0;
        this.problem = undefined;
      } catch (error) {
        if (this.#closing !== undefined) return;
        // The consumer or its stream may be gone: made again, or said by
        // check(); then a pause, growing while it fails.
        await this.#restoreIfLost(topic, config, settings, error);
        await new Promise((resolve) => {
          this.#pause = setTimeout(
            resolve,
            Math.min(5_000, 100 * 2 ** failures++),
          );
        });
      }
    }
  }

  /** Resolves once fewer than a batch of messages are held (or at close). */
  #room(): Promise<void> | void {
    if (this.#held.size < this.#batch) return;
    return new Promise((resolve) =>
      this.#roomy = () => {
        this.#roomy = undefined;
        resolve();
      }
    );
  }

  // A durable consumer deleted, or its stream (by hand, or lost with the
  // server's store), is made again. On the same stream it resumes at the
  // first message not known to be settled (the group's acknowledgement
  // floor, as last read, or a message this member still holds): some come
  // twice, none is skipped. On a new stream (its creation time differs) it
  // starts at its beginning.
  async #restoreIfLost(
    topic: string,
    config: Partial<ConsumerConfig>,
    settings: Partial<ConsumerConfig>,
    cause: unknown,
  ): Promise<void> {
    const stream = this.#options.stream.name;
    const { jsm } = this.#connected;
    try {
      let created: string;
      try {
        created = (await jsm.streams.info(stream)).created;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        await this.#restoreStream();
        created = (await jsm.streams.info(stream)).created;
      }
      try {
        await jsm.consumers.info(stream, config.durable_name!);
        this.problem = undefined;
        return; // not lost: the fetch failed for another reason
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
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
      // Said by check() until a later attempt succeeds.
      this.problem = natsError(error ?? cause, "consume (restoring)", [topic]);
    }
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

  // Reads each durable consumer's acknowledgement floor, for #resumeAt;
  // finds one that is gone (a fetch may just come back empty then).
  async #readFloors(): Promise<void> {
    const stream = this.#options.stream.name;
    for (const [topic, { config, settings }] of this.#configs) {
      try {
        const info = await this.#connected.jsm.consumers.info(
          stream,
          config.durable_name!,
        );
        this.#floors.set(topic, info.ack_floor.stream_seq);
      } catch (error) {
        if (isNotFound(error) && this.#closing === undefined) {
          await this.#restoreIfLost(topic, config, settings, error);
        }
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
      if (this.#held.size < this.#batch) this.#roomy?.();
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
    // The fetches in flight end (what they bring is held), the handlers in
    // flight finish (those not started are stopped by the bus), then what
    // is left goes back to the server: no request of ours is left there to
    // take it back.
    clearTimeout(this.#pause);
    this.#roomy?.();
    const ended = Promise.allSettled(this.#pulls);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise((resolve) => {
      timer = setTimeout(resolve, PULL_EXPIRES + 500, "late");
    });
    if (await Promise.race([ended, late]) === "late") {
      // No answer from the server (it is away): its requests are gone with
      // it, so nothing more can come to them.
      for (const batch of this.#fetching) batch.stop();
      // A fetch not yet answered at all is not waited for either.
      await Promise.race([
        ended,
        new Promise((resolve) => (timer = setTimeout(resolve, 500))),
      ]);
    }
    clearTimeout(timer);
    while (this.#runs.size > 0) await Promise.allSettled([...this.#runs]);
    this.#flush();
    for (const message of this.#held) message.nak();
    this.#held.clear();
    clearInterval(this.#working);
    clearInterval(this.#reading);
    this.#onClosed();
  }
}
