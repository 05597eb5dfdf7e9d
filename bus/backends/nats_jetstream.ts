// The NATS backend on nats.js v3: one connection to the listed servers
// (reconnecting for ever, with backoff and jitter), a stream of file storage
// created or widened at first use and never recreated, publishes that resolve
// on the stream's acknowledgement and de-duplicate by event id, and one
// durable pull consumer per group and topic (see nats_consumption.ts).
import { headers as newHeaders, type MsgHdrs } from "@nats-io/transport-node";
import {
  jetstream,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { type CqiError, invalidInput, permanent, temporary } from "@cqi/errors";
import { probe, withDeadline } from "./deadline.ts";
import type {
  BusDriver,
  ConsumeOptions,
  Consumption,
  OutgoingRecord,
  RecordHandler,
} from "./driver.ts";
import { NatsConsumption } from "./nats_consumption.ts";
import { connect } from "./nats_connect.ts";
import { isNotFound, natsError } from "./nats_error.ts";
import {
  type Connected,
  KEY_HEADER,
  type NatsDriverOptions,
  ns,
  STREAM_DEFAULTS,
  subjectMatches,
} from "./nats_options.ts";

/** Longest wait between reconnect rounds, before jitter. */
const MAX_RECONNECT_WAIT = 5_000;
/** How long a stream deleted under the bus stays gone before it is made again. */
const LOST_STREAM_SETTLE = 1_000;

/**
 * A NATS JetStream driver on nats.js.
 *
 * @param options Servers, credentials, stream and consumer settings.
 * @returns The driver; it connects on first use.
 */
export function natsDriver(options: NatsDriverOptions): BusDriver {
  return new NatsDriver(options);
}

function closedError(operation: string): CqiError {
  return permanent(`nats ${operation}: the bus is closed`);
}

// A header name NATS can carry (a token: printable ASCII, no ':'), and a
// value it carries as it is: no line break, and no space or tab at either
// end (which the receiving client trims). `Nats-*` names are the server's.
const HEADER_NAME = /^[!-9;-~]+$/;
const UNCARRIED_VALUE = /[\r\n]|^[ \t]|[ \t]$/;

function toHeaders(record: OutgoingRecord): MsgHdrs {
  const headers = newHeaders();
  for (const [name, value] of Object.entries(record.headers)) {
    if (!HEADER_NAME.test(name) || /^nats-/i.test(name)) {
      throw invalidInput(
        `nats publish: header ${
          JSON.stringify(name.slice(0, 100))
        } cannot travel on NATS (a token without ':', not Nats-*)`,
      );
    }
    if (UNCARRIED_VALUE.test(value)) {
      throw invalidInput(
        `nats publish: header ${
          JSON.stringify(name.slice(0, 100))
        } has a line break, or a space or tab at an end, which NATS drops`,
      );
    }
    headers.set(name, value);
  }
  // Percent-encoded: any key arrives exactly as it was given.
  if (record.key !== undefined) {
    let key: string;
    try {
      key = encodeURIComponent(record.key);
    } catch {
      throw invalidInput("nats publish: a key must be well-formed text");
    }
    headers.set(KEY_HEADER, key);
  }
  return headers;
}

class NatsDriver implements BusDriver {
  readonly system = "nats";
  readonly #options: NatsDriverOptions;
  #connection: Promise<Connected> | undefined;
  #connected = false;
  #stream: Promise<string[]> | undefined;
  /** The stream was found or made once: one missing now was deleted. */
  #hadStream = false;
  readonly #consumptions = new Set<NatsConsumption>();
  readonly #publishing = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(options: NatsDriverOptions) {
    this.#options = options;
  }

  /** Connects once; a failed first connect is forgotten, so the next call tries again. */
  async #connect(): Promise<Connected> {
    if (this.#closing !== undefined) throw closedError("connect");
    this.#connection ??= this.#open();
    const connecting = this.#connection;
    try {
      return await connecting;
    } catch (error) {
      if (this.#connection === connecting) this.#connection = undefined;
      throw natsError(error, "connect");
    }
  }

  async #open(): Promise<Connected> {
    const o = this.#options;
    let round = 0;
    const nc = await connect({
      servers: o.servers,
      name: o.clientId,
      user: o.username,
      pass: o.password,
      token: o.token,
      timeout: o.connectionTimeout,
      maxReconnectAttempts: -1,
      // Refused credentials (rotated, expired) are retried like any
      // outage, rather than closing the connection for good.
      ignoreAuthErrorAbort: true,
      reconnectTimeWait: 250,
      // After each round over every server: 250 ms doubling to 5 s, with
      // jitter of half of it, so that restarted clients do not stampede.
      reconnectDelayHandler: () => {
        const wait = Math.min(MAX_RECONNECT_WAIT, 250 * 2 ** round++);
        return wait / 2 + Math.random() * (wait / 2);
      },
      pingInterval: Math.max(1_000, Math.min(20_000, o.requestTimeout)),
      maxPingOut: 2,
    });
    this.#connected = true;
    (async () => {
      for await (const status of nc.status()) {
        if (status.type === "disconnect") this.#connected = false;
        if (status.type === "reconnect") {
          this.#connected = true;
          round = 0;
        }
      }
    })().catch(() => {});
    nc.closed().then(() => {
      this.#connected = false;
      // Closed under us: the next call connects again.
      if (this.#closing === undefined) this.#connection = undefined;
    });
    try {
      const jsm = await jetstreamManager(nc, { timeout: o.requestTimeout });
      return { nc, js: jetstream(nc, { timeout: o.requestTimeout }), jsm };
    } catch (error) {
      await nc.close().catch(() => {});
      throw error;
    }
  }

  /** Creates or widens the stream once; resolves with its subjects. */
  #ensureStream(connected: Connected): Promise<string[]> {
    this.#stream ??= this.#createOrUpdate(connected.jsm);
    const ensuring = this.#stream;
    ensuring.then(() => this.#hadStream = true, () => {
      if (this.#stream === ensuring) this.#stream = undefined;
    });
    return ensuring;
  }

  /** The stream's configuration; undefined if there is none. */
  async #info(jsm: JetStreamManager): Promise<StreamConfig | undefined> {
    try {
      return (await jsm.streams.info(this.#options.stream.name)).config;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async #createOrUpdate(jsm: JetStreamManager): Promise<string[]> {
    const s = this.#options.stream;
    let existing = await this.#info(jsm);
    if (existing === undefined && this.#hadStream) {
      // A stream deleted under us is made again only once the server has
      // removed the old one's files: NATS 2.9 removes them after it answers
      // the deletion, and took the blocks of a stream made again at once
      // with them, losing the events it had acknowledged.
      await new Promise((resolve) => setTimeout(resolve, LOST_STREAM_SETTLE));
      existing = await this.#info(jsm);
    }
    if (existing === undefined) {
      const maxAge = s.maxAge ?? STREAM_DEFAULTS.maxAge;
      try {
        const created = await jsm.streams.add({
          name: s.name,
          subjects: s.subjects,
          storage: StorageType.File,
          max_age: ns(maxAge),
          max_bytes: s.maxBytes ?? -1,
          max_msgs: s.maxMessages ?? -1,
          num_replicas: s.replicas ?? STREAM_DEFAULTS.replicas,
          // The server refuses a window longer than the age.
          duplicate_window: ns(
            s.duplicateWindow ??
              Math.min(STREAM_DEFAULTS.duplicateWindow, maxAge),
          ),
        });
        return created.config.subjects;
      } catch (error) {
        // Created meanwhile by another process: update it as found.
        if ((error as { code?: unknown })?.code !== 10058) throw error;
        existing = (await jsm.streams.info(s.name)).config;
      }
    }
    if (existing.retention !== RetentionPolicy.Limits) {
      throw permanent(
        `nats stream ${
          JSON.stringify(s.name)
        } exists with ${existing.retention} retention, not limits: it would ` +
          "drop events no consumer group has yet (and dead letters); the bus " +
          "never replaces a stream that exists, migrate it by hand",
      );
    }
    if (existing.storage !== StorageType.File) {
      throw permanent(
        `nats stream ${
          JSON.stringify(s.name)
        } exists with ${existing.storage} storage, not file: the bus never ` +
          "replaces a stream that exists (its messages would be lost); " +
          "migrate it by hand",
      );
    }
    // Subjects are only ever added; limits change only where configured.
    const subjects = [...existing.subjects ?? []];
    for (const subject of s.subjects) {
      if (!subjects.includes(subject)) subjects.push(subject);
    }
    const patch: Partial<StreamConfig> = {};
    if (subjects.length !== (existing.subjects ?? []).length) {
      patch.subjects = subjects;
    }
    const limits = [
      ["max_age", s.maxAge === undefined ? undefined : ns(s.maxAge)],
      ["max_bytes", s.maxBytes],
      ["max_msgs", s.maxMessages],
      ["num_replicas", s.replicas],
      [
        "duplicate_window",
        s.duplicateWindow === undefined ? undefined : ns(s.duplicateWindow),
      ],
    ] as const;
    for (const [field, value] of limits) {
      if (value !== undefined && existing[field] !== value) {
        (patch as Record<string, number>)[field] = value;
      }
    }
    if (Object.keys(patch).length === 0) return subjects;
    const updated = await jsm.streams.update(s.name, patch);
    return updated.config.subjects;
  }

  /** Refuses topics outside the stream: nothing would store them. */
  #covered(subjects: string[], topics: string[], operation: string): void {
    for (const topic of topics) {
      if (!subjects.some((pattern) => subjectMatches(pattern, topic))) {
        throw invalidInput(
          `nats ${operation}: topic ${
            JSON.stringify(topic.slice(0, 100))
          } is not a subject of the stream ${
            JSON.stringify(this.#options.stream.name)
          } (${
            subjects.slice(0, 5).join(", ")
          }); add it to the stream's subjects`,
        );
      }
    }
  }

  async #ready(operation: string, topics: string[]): Promise<Connected> {
    let connected: Connected;
    let subjects: string[];
    try {
      connected = await this.#connect();
      subjects = await this.#ensureStream(connected);
    } catch (error) {
      throw natsError(error, operation, topics);
    }
    this.#covered(subjects, topics, operation);
    return connected;
  }

  async publish(records: OutgoingRecord[]): Promise<void> {
    if (this.#closing !== undefined) throw closedError("publish");
    if (records.length === 0) return;
    const topics = [...new Set(records.map((r) => r.topic))];
    const messages = records.map((record) => ({
      record,
      headers: toHeaders(record),
    }));
    const { js } = await this.#ready("publish", topics);
    // Sent together on one connection, so stored in order; each resolves
    // on the stream's acknowledgement. The message id makes a repeated
    // publish of one event (a retry after a lost acknowledgement) a no-op.
    // It names the topic too, since a dead letter keeps its event's id, and
    // a dead letter's group, since each group's letter of one event counts.
    const sending = Promise.allSettled(
      messages.map(({ record, headers }) => {
        const id = record.headers.ce_id;
        const group = record.headers["cqi-group"];
        return js.publish(record.topic, record.value, {
          headers,
          timeout: this.#options.requestTimeout,
          ...(id
            ? {
              msgID: group === undefined
                ? `${record.topic} ${id}`
                : `${record.topic} ${group} ${id}`,
            }
            : {}),
        });
      }),
    );
    this.#publishing.add(sending);
    try {
      const results = await sending;
      const failed = results.find((r) => r.status === "rejected");
      if (failed !== undefined) {
        const reason = (failed as PromiseRejectedResult).reason;
        if (isStreamGone(reason)) this.#stream = undefined;
        throw natsError(reason, "publish", topics);
      }
    } finally {
      this.#publishing.delete(sending);
    }
  }

  async ensureTopics(topics: string[]): Promise<void> {
    if (this.#closing !== undefined) throw closedError("ensureTopics");
    await this.#ready("ensureTopics", [...new Set(topics)]);
  }

  async consume(
    options: ConsumeOptions,
    handle: RecordHandler,
  ): Promise<Consumption> {
    if (this.#closing !== undefined) throw closedError("consume");
    if (options.topics.length === 0) {
      throw invalidInput("nats consume: no topics");
    }
    const connected = await this.#ready("consume", options.topics);
    const consumption = new NatsConsumption(
      connected,
      this.#options,
      options,
      handle,
      () => this.#consumptions.delete(consumption),
      async () => {
        this.#stream = undefined;
        await this.#ensureStream(connected);
      },
    );
    this.#consumptions.add(consumption);
    try {
      await consumption.start();
    } catch (error) {
      await consumption.close();
      throw natsError(error, "consume", options.topics);
    }
    if (this.#closing !== undefined) {
      await consumption.close();
      throw closedError("consume");
    }
    return consumption;
  }

  check(signal?: AbortSignal): Promise<void> {
    const o = this.#options;
    return probe(
      "nats",
      signal,
      o.connectionTimeout + o.requestTimeout,
      async () => {
        if (this.#closing !== undefined) throw closedError("check");
        if (this.#connection !== undefined && !this.#connected) {
          // Reconnecting: say so now rather than after a request's timeout.
          throw temporary("nats check: disconnected from the server");
        }
        for (const consumption of this.#consumptions) {
          if (consumption.problem !== undefined) throw consumption.problem;
        }
        try {
          const connected = await this.#connect();
          try {
            await connected.jsm.streams.info(o.stream.name);
          } catch (error) {
            if (!isNotFound(error)) throw error;
            // Deleted, or lost with the server's store: create it again.
            this.#stream = undefined;
            await this.#ensureStream(connected);
          }
        } catch (error) {
          throw natsError(error, "check");
        }
      },
    );
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await Promise.all([...this.#consumptions].map((c) => c.close()));
    await Promise.allSettled([...this.#publishing]);
    const connecting = this.#connection;
    if (connecting === undefined) return;
    try {
      // Drain: what was published reaches the server (acks included); a
      // server that is away gets a request's time, then the socket closes.
      const { nc } = await connecting;
      const ms = this.#options.requestTimeout;
      await withDeadline(nc.drain(), ms, () => new Error("drain timed out"))
        .catch(() => nc.close());
    } catch {
      // never connected
    }
  }
}

// No stream took the message: JetStream is not there, or the stream is not
// (deleted, or the server came back without its store). The next call
// ensures the stream again: if it is missing, nothing is lost by creating it.
function isStreamGone(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "JetStreamNotEnabled" || name === "NoResponders" ||
    name === "NoRespondersError" || isNotFound(error);
}
