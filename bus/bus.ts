// The bus over a driver: encoding, headers, topics, the subscriber chain,
// publish batching and an orderly close. Backends only move records.
import { type Codec, toCodec, type ValueSchema } from "@cqi/codec";
import { canceled, CqiError, invalidInput, kindOf } from "@cqi/errors";
import { inject, startSpan } from "@cqi/tracing";
import type { BusDriver, Consumption } from "./backends/driver.ts";
import {
  callHook,
  type DeadLetterInfo,
  deliver,
  RAW,
  ROOT,
} from "./deliver.ts";
import { eventHeaders } from "./headers.ts";
import { Publisher } from "./publisher.ts";
import { retry } from "./retry.ts";
import { checkTopic, topicOf } from "./topic.ts";
import type {
  Bus,
  Handler,
  Message,
  Middleware,
  Published,
  PublishOptions,
  SubscribeOptions,
  Subscription,
} from "./types.ts";

/** What a publish reports to the bus's `onPublish` hook. */
export interface PublishInfo {
  /** The topic. */
  topic: string;
  /** The message type's full name. */
  type: string;
  /** `ok`, or the failure's kind. */
  outcome: string;
  /** Milliseconds from the call to the acknowledgement or failure. */
  duration: number;
}

/** A bus's settings, resolved by `createBus`. */
export interface BusSettings {
  driver: BusDriver;
  /** `ce_source`: the service name. */
  source: string;
  /** The group of subscriptions that name none. */
  group: string;
  publishTimeout: number;
  closeTimeout: number;
  /** Middleware of every subscription, outermost. */
  middleware: Middleware[];
  schemas: ValueSchema[];
  onPublish?: (info: PublishInfo) => void;
  onDeadLetter?: (info: DeadLetterInfo) => void;
}

/** The {@linkcode Bus} of every backend. */
export class BusClient implements Bus {
  readonly #settings: BusSettings;
  readonly #publisher: Publisher;
  readonly #types = new Map<string, Codec<unknown>>();
  readonly #subscriptions = new Set<SubscriptionHandle>();
  #closing: Promise<void> | undefined;
  /** Set once the subscriptions closed: publishes are refused from then on. */
  #sealed = false;
  /** Subscriptions still joining (close() waits for them to undo). */
  readonly #joining = new Set<Promise<unknown>>();

  constructor(settings: BusSettings) {
    this.#settings = settings;
    this.#publisher = new Publisher(settings.driver);
    for (const schema of settings.schemas) this.#codec(schema);
  }

  get system(): string {
    return this.#settings.driver.system;
  }

  publish(
    schemaOrTopic: ValueSchema | string,
    value: unknown,
    options: PublishOptions | undefined = {},
  ): Promise<Published> {
    const start = performance.now();
    let topic = "";
    let type = "";
    options ??= {};
    try {
      // Open until the subscriptions closed: their handlers may publish.
      if (this.#sealed) throw canceled("bus closed");
      let codec: Codec<unknown>;
      if (typeof schemaOrTopic === "string") {
        topic = checkTopic(schemaOrTopic);
        type = (value as { $typeName?: unknown } | undefined)
          ?.$typeName as string;
        const known = typeof type === "string"
          ? this.#types.get(type)
          : undefined;
        if (known === undefined) {
          throw invalidInput(
            `publish: unknown message type ${
              JSON.stringify(String(type).slice(0, 100))
            }: pass its schema to publish(), or to createBus() in schemas`,
          );
        }
        codec = known;
      } else {
        codec = this.#codec(schemaOrTopic);
        type = codec.name;
        topic = options.topic === undefined
          ? topicOf(codec.name)
          : checkTopic(options.topic);
      }
      const key = options.key;
      if (key !== undefined && typeof key !== "string") {
        throw invalidInput("publish: key must be a string");
      }
      const id = options.id ?? crypto.randomUUID();
      if (typeof id !== "string" || id === "" || id.length > 256) {
        throw invalidInput(
          "publish: id must be a string of 1 to 256 characters",
        );
      }
      const bytes = encode(codec, value);
      const headers = eventHeaders({
        id,
        type,
        source: this.#settings.source,
        contentType: codec.contentType,
        time: new Date(),
      }, options.headers);
      const sent = startSpan(`publish ${topic}`, async () => {
        inject(headers);
        await this.#publisher.send(
          { topic, key, value: bytes, headers },
          this.#settings.publishTimeout,
          options.signal,
        );
        return { topic, id };
      }, {
        "messaging.system": this.#settings.driver.system,
        "messaging.operation.type": "send",
        "messaging.destination.name": topic,
        "messaging.message.id": id,
      }, { kind: "producer" });
      return this.#report(sent, topic, type, start);
    } catch (error) {
      return this.#report(
        Promise.reject(publishError(error)),
        topic,
        type,
        start,
      );
    }
  }

  subscribe(
    schemaOrTopic: ValueSchema | string,
    handler: Handler<never>,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    const joining = this.#subscribe(schemaOrTopic, handler, options ?? {});
    this.#joining.add(joining);
    const done = () => this.#joining.delete(joining);
    joining.then(done, done);
    return joining;
  }

  async #subscribe(
    schemaOrTopic: ValueSchema | string,
    handler: Handler<never>,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    if (this.#closing !== undefined) throw canceled("bus closed");
    if (typeof handler !== "function") {
      throw new TypeError("subscribe: handler must be a function");
    }
    let topic: string;
    let decode: (bytes: Uint8Array, type: string) => unknown;
    if (typeof schemaOrTopic === "string") {
      topic = checkTopic(schemaOrTopic);
      decode = (bytes, type) => {
        const codec = this.#types.get(type);
        if (codec === undefined) {
          throw invalidInput(
            `unknown message type ${JSON.stringify(type.slice(0, 100))}`,
          );
        }
        return codec.decode(bytes);
      };
    } else {
      const codec = this.#codec(schemaOrTopic);
      const protobuf = codec.contentType === "application/x-protobuf";
      topic = options.topic === undefined
        ? topicOf(codec.name)
        : checkTopic(options.topic);
      decode = (bytes, type) => {
        // protobuf decodes another type's bytes without complaint: check
        // the type it was published as (json validates, bytes takes all).
        if (protobuf && type !== "" && type !== codec.name) {
          throw invalidInput(
            `message type ${
              JSON.stringify(type.slice(0, 100))
            } is not ${codec.name}`,
          );
        }
        return codec.decode(bytes);
      };
    }
    const group = options.group ?? this.#settings.group;
    if (typeof group !== "string" || group === "" || group.length > 249) {
      throw new TypeError(
        "subscribe: group must be a string of 1 to 249 characters",
      );
    }
    const concurrency = options.concurrency ?? 1;
    if (
      !Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000
    ) {
      throw new RangeError(
        `subscribe: concurrency must be an integer from 1 to 10000, got ${concurrency}`,
      );
    }
    const deadLetter: string | false = options.deadLetter === false
      ? false
      : checkTopic(options.deadLetter ?? `${topic}.dlq`);
    if (deadLetter === topic) {
      throw new TypeError(
        "subscribe: the dead-letter topic must not be the topic itself",
      );
    }
    const own = options.middleware ?? [];
    if (!Array.isArray(own) || own.some((m) => typeof m !== "function")) {
      throw new TypeError(
        "subscribe: middleware must be an array of functions",
      );
    }
    const from = options.from ?? "earliest";
    if (from !== "earliest" && from !== "latest") {
      throw new TypeError('subscribe: from must be "earliest" or "latest"');
    }
    const chain = compose([
      ...this.#settings.middleware,
      (message, next) =>
        next({
          ...message,
          value: decode(
            (message as unknown as { [RAW]: Uint8Array })[RAW],
            message.type,
          ),
        }),
      retry(options.retry),
      (message, next) => {
        (message as unknown as { [ROOT]: { attempt: number } })[ROOT].attempt =
          message.attempt;
        return next(message);
      },
      ...own,
    ], handler as Handler<unknown>);
    const handle = new SubscriptionHandle(
      topic,
      group,
      this.#settings.closeTimeout,
    );
    const driver = this.#settings.driver;
    await driver.ensureTopics(
      deadLetter === false ? [topic] : [topic, deadLetter],
    );
    const delivery = {
      driver,
      group,
      chain,
      deadLetter,
      stopping: handle.stopping.signal,
      grace: handle.grace.signal,
      onDeadLetter: this.#settings.onDeadLetter ?? (() => {}),
    };
    const consumption = await driver.consume(
      { group, topics: [topic], concurrency, from },
      (record) => deliver(delivery, record),
    );
    handle.start(consumption, () => this.#subscriptions.delete(handle));
    if (this.#closing !== undefined) {
      // The bus closed while this one joined: leave again.
      await handle.close();
      throw canceled("bus closed");
    }
    this.#subscriptions.add(handle);
    return handle;
  }

  check(signal?: AbortSignal): Promise<void> {
    return this.#settings.driver.check(signal);
  }

  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // Subscriptions first (their handlers finish, and may still publish),
  // then publishes are refused and those in flight awaited, then the driver.
  async #close(): Promise<void> {
    await Promise.allSettled([...this.#subscriptions].map((s) => s.close()));
    this.#sealed = true;
    await this.#publisher.drain();
    // Closing the driver ends joins still running; each then closes its own
    // subscription (it sees the bus closing) before rejecting.
    await this.#settings.driver.close();
    await Promise.allSettled([...this.#joining]);
  }

  #codec(schema: ValueSchema): Codec<unknown> {
    const codec = toCodec(schema) as Codec<unknown>;
    this.#types.set(codec.name, codec);
    return codec;
  }

  #report(
    sent: Promise<Published>,
    topic: string,
    type: string,
    start: number,
  ): Promise<Published> {
    const hook = this.#settings.onPublish;
    if (hook === undefined) return sent;
    const report = (outcome: string) =>
      callHook(hook, {
        topic,
        type,
        outcome,
        duration: performance.now() - start,
      });
    return sent.then((published) => {
      report("ok");
      return published;
    }, (error) => {
      report(kindOf(error) ?? "unknown"); // a CqiError or a TypeError here
      throw error;
    });
  }
}

class SubscriptionHandle implements Subscription {
  readonly topic: string;
  readonly group: string;
  readonly stopping = new AbortController();
  readonly grace = new AbortController();
  readonly #closeTimeout: number;
  #consumption: Consumption | undefined;
  #onClosed: () => void = () => {};
  #closing: Promise<void> | undefined;

  constructor(topic: string, group: string, closeTimeout: number) {
    this.topic = topic;
    this.group = group;
    this.#closeTimeout = closeTimeout;
  }

  start(consumption: Consumption, onClosed: () => void): void {
    this.#consumption = consumption;
    this.#onClosed = onClosed;
  }

  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    this.stopping.abort(canceled(`subscription to ${this.topic} closing`));
    const timer = setTimeout(
      () => this.grace.abort(canceled(`subscription to ${this.topic} closed`)),
      this.#closeTimeout,
    );
    try {
      await this.#consumption?.close();
    } finally {
      clearTimeout(timer);
      this.#onClosed();
    }
  }
}

function compose(
  middleware: Middleware[],
  handler: Handler<unknown>,
): (message: Message) => Promise<void> {
  let next = async (message: Message): Promise<void> => {
    await handler(message);
  };
  for (let i = middleware.length - 1; i >= 0; i--) {
    const run = middleware[i];
    const inner = next;
    next = async (message) => {
      await run(message, inner);
    };
  }
  return next;
}

// What a codec's encode throws, other than its own CqiError, may quote the
// value: only the type's name travels (the error is the cause).
function encode(codec: Codec<unknown>, value: unknown): Uint8Array {
  try {
    return codec.encode(value);
  } catch (error) {
    if (error instanceof CqiError) throw error;
    throw invalidInput(`invalid ${codec.name}: cannot be encoded`, {
      cause: error,
    });
  }
}

// A publish fails with a CqiError, or a TypeError for a programming error
// (a schema that is no schema); anything else (a getter that threw, an
// abort reason) becomes one.
function publishError(error: unknown): unknown {
  if (error instanceof CqiError || error instanceof TypeError) return error;
  return invalidInput("publish: invalid options", { cause: error });
}
