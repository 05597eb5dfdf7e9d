import type { ValueOf, ValueSchema } from "@cqi/codec";

/**
 * A message as a subscriber receives it: the decoded value and where it came
 * from. Everything but `value`, `attempt` and `signal` is read from the
 * record, which came from outside.
 *
 * @example Usage
 * ```ts
 * import type { Message } from "@cqi/bus";
 *
 * const describe = (m: Message) => `${m.topic}/${m.partition}@${m.offset} (attempt ${m.attempt})`;
 * ```
 *
 * @typeParam T The decoded value's type.
 */
export interface Message<T = unknown> {
  /** The decoded value. */
  readonly value: T;
  /** The topic it was published to. */
  readonly topic: string;
  /** Its partition (0 on a single-partition topic). */
  readonly partition: number;
  /** Its offset in the partition, a decimal string (Kafka offsets pass 2^53). */
  readonly offset: string;
  /** The key it was published with; messages of one key keep their order. */
  readonly key: string | undefined;
  /** Every header, the bus's own (`ce_*`, `content-type`, `traceparent`) included. */
  readonly headers: Readonly<Record<string, string>>;
  /** The event id (`ce_id`) its publisher gave it: the same on every redelivery. */
  readonly id: string;
  /** The message type's full name (`ce_type`), such as `cqc.events.v1.PositionChanged`. */
  readonly type: string;
  /** When it was published (`ce_time`), if the publisher said. */
  readonly time: Date | undefined;
  /** The consumer group receiving it. */
  readonly group: string;
  /** 1 for the first delivery, 2 for the first retry, ... */
  readonly attempt: number;
  /** Messages after this one in its partition when it was fetched, if known. */
  readonly lag: number | undefined;
  /**
   * Aborts when the handler should give up: a `timeout` middleware's
   * deadline, or the end of the subscription's close grace period.
   */
  readonly signal: AbortSignal;
}

/**
 * What a subscriber runs for each message. It resolves when done with the
 * message (which is then committed), or throws: a temporary failure is
 * retried, any other goes to the dead-letter topic.
 *
 * @example Usage
 * ```ts
 * import type { Handler } from "@cqi/bus";
 *
 * const handler: Handler<{ id: string }> = (message) => {
 *   console.log(message.value.id);
 * };
 * ```
 *
 * @typeParam T The decoded value's type.
 */
export type Handler<T = unknown> = (
  message: Message<T>,
) => void | Promise<void>;

/**
 * The rest of the chain, as a middleware sees it: call it with the message
 * (or a copy with another `signal` or `attempt`).
 *
 * @example Usage
 * ```ts
 * import type { Message, Next } from "@cqi/bus";
 *
 * const run = (message: Message, next: Next) => next(message);
 * ```
 */
export type Next = (message: Message) => Promise<void>;

/**
 * Subscriber middleware, shaped like HTTP middleware: it wraps the handler
 * and the middleware after it. Throwing fails the delivery.
 *
 * @example Usage
 * ```ts
 * import type { Middleware } from "@cqi/bus";
 *
 * const timed: Middleware = async (message, next) => {
 *   const start = performance.now();
 *   try {
 *     await next(message);
 *   } finally {
 *     console.log(message.topic, performance.now() - start);
 *   }
 * };
 * ```
 */
export type Middleware = (message: Message, next: Next) => Promise<void>;

/**
 * Options of {@linkcode Bus.publish}.
 *
 * @example Usage
 * ```ts
 * import type { PublishOptions } from "@cqi/bus";
 *
 * const options: PublishOptions = { key: "acct-1", headers: { tenant: "eu" } };
 * ```
 */
export interface PublishOptions {
  /** Partitioning key: events of one key are delivered in order. */
  key?: string;
  /** Extra headers (names not starting with `ce_`, `cqi-`, nor the bus's own). */
  headers?: Record<string, string>;
  /** The topic, instead of the one derived from the message type. */
  topic?: string;
  /** The event id (`ce_id`). Default a random UUID. */
  id?: string;
  /** Stops waiting: the call rejects, the event may still be sent. */
  signal?: AbortSignal;
}

/**
 * What {@linkcode Bus.publish} resolves with, once the broker acknowledged.
 *
 * @example Usage
 * ```ts
 * import type { Published } from "@cqi/bus";
 *
 * const log = (p: Published) => console.log(`sent ${p.id} to ${p.topic}`);
 * ```
 */
export interface Published {
  /** The topic it went to. */
  topic: string;
  /** Its event id (`ce_id`). */
  id: string;
}

/**
 * Options of {@linkcode Bus.subscribe}. Durations are milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { SubscribeOptions } from "@cqi/bus";
 *
 * const options: SubscribeOptions = { group: "positions", concurrency: 8 };
 * ```
 */
export interface SubscribeOptions {
  /**
   * The consumer group: each group gets every message once, its members
   * split the partitions. Default the config's `consumerGroup`, else the
   * service name.
   */
  group?: string;
  /** The topic, instead of the one derived from the message type. */
  topic?: string;
  /**
   * Messages handled at once: in parallel across partitions and keys, never
   * two of one key (nor two keyless ones of one partition). Default 1.
   */
  concurrency?: number;
  /** Middleware, outermost first, after the bus's own. */
  middleware?: Middleware[];
  /**
   * Redelivery of a failed message in this process: attempts in all, the
   * first included (1: none), with the backoff of `@cqi/retry` between them.
   * Only temporary failures (`temporary`, `timeout`, `rate_limited`, network
   * errors) are retried. Default `{ maxAttempts: 3 }`.
   */
  retry?: RetryPolicyOptions;
  /**
   * Where a message goes that failed for good, that did not decode or whose
   * type is not the subscriber's: a topic name, or false to drop it (it is
   * committed and reported). Default `{topic}.dlq`.
   */
  deadLetter?: string | false;
  /** Where a new group starts reading. Default `earliest`: nothing published is skipped. */
  from?: "earliest" | "latest";
}

/**
 * Redelivery settings of {@linkcode SubscribeOptions.retry} and the `retry`
 * middleware.
 *
 * @example Usage
 * ```ts
 * import type { RetryPolicyOptions } from "@cqi/bus";
 *
 * const retry: RetryPolicyOptions = { maxAttempts: 5, initialDelay: 200, maxDelay: 10_000 };
 * ```
 */
export interface RetryPolicyOptions {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** Milliseconds before the first retry. Default 100. */
  initialDelay?: number;
  /** Cap on the delay. Default 5,000. */
  maxDelay?: number;
}

/**
 * A running subscription. Closing it stops fetching, lets handlers in
 * flight finish, commits and leaves the group.
 *
 * @example Usage
 * ```ts
 * import type { Subscription } from "@cqi/bus";
 *
 * const stop = (s: Subscription) => s.close();
 * ```
 */
export interface Subscription extends AsyncDisposable {
  /** The topic consumed. */
  readonly topic: string;
  /** The consumer group. */
  readonly group: string;
  /** Stops it (idempotent). */
  close(): Promise<void>;
}

/**
 * An event bus: typed, encoded messages on topics, delivered at least once
 * to every consumer group. From `createBus()`.
 *
 * @example Usage
 * ```ts
 * import type { Bus } from "@cqi/bus";
 * import { json } from "@cqi/codec";
 *
 * const Ping = json<{ n: number }>(undefined, { name: "cqc.events.v1.Ping" });
 * const ping = (bus: Bus, n: number) => bus.publish(Ping, { n });
 * ```
 */
export interface Bus extends AsyncDisposable {
  /** `memory`, `kafka` or `nats`. */
  readonly system: string;
  /**
   * Publishes `value` of the type `schema` describes, encoded by it; the
   * topic comes from the type's full name (see {@linkcode topicOf}) unless
   * given. Resolves once the broker acknowledged it (all in-sync replicas);
   * calls made together travel in one request. Rejects with a `CqiError`:
   * `invalid_input` for a value or option the bus refuses, `temporary` or
   * `timeout` when the broker did not acknowledge in time, `canceled` after
   * `close()`.
   */
  publish<S extends ValueSchema>(
    schema: S,
    value: ValueOf<S>,
    options?: PublishOptions,
  ): Promise<Published>;
  /**
   * The `publish(topic, message)` form: a protobuf-es message whose schema
   * the bus knows (given to `createBus` in `schemas`, or used before).
   */
  publish(
    topic: string,
    message: { readonly $typeName: string },
    options?: Omit<PublishOptions, "topic">,
  ): Promise<Published>;
  /**
   * Calls `handler` with each message of the type's topic, decoded. Resolves
   * once the consumer joined its group.
   */
  subscribe<S extends ValueSchema>(
    schema: S,
    handler: Handler<ValueOf<S>>,
    options?: SubscribeOptions,
  ): Promise<Subscription>;
  /**
   * The `subscribe(topic, handler)` form: each message is decoded by the
   * schema its `ce_type` names, among those the bus knows.
   */
  subscribe(
    topic: string,
    handler: Handler<unknown>,
    options?: Omit<SubscribeOptions, "topic">,
  ): Promise<Subscription>;
  /** Throws when the backend is unreachable (for readiness). */
  check(signal?: AbortSignal): Promise<void>;
  /**
   * Closes every subscription (handlers finish, and may still publish;
   * offsets commit), then refuses publishes, waits for those in flight and
   * disconnects.
   */
  close(): Promise<void>;
}

/**
 * NATS JetStream settings of {@linkcode BusOptions}: credentials, the stream
 * the bus publishes to, and its durable consumers. Durations are
 * milliseconds. The config's `eventBus` section has the same fields.
 *
 * A stream that does not exist is created with these settings (defaults
 * where absent); one that exists is updated only where a setting is given
 * here, and gains subjects but never loses any: the bus never deletes or
 * recreates a stream.
 *
 * @example Usage
 * ```ts
 * import type { NatsOptions } from "@cqi/bus";
 *
 * const nats: NatsOptions = { stream: "ORDERS", subjects: ["orders.>"], maxDeliver: 10 };
 * ```
 */
export interface NatsOptions {
  /** User name (also `nats://user:password@host`). */
  username?: string;
  /** Password of `username`. */
  password?: string;
  /** Token (also `nats://token@host`). */
  token?: string;
  /** The stream's name. Default `CQC_EVENTS`. */
  stream?: string;
  /** The stream's subjects: every topic must be one of them. Default `cqc.events.v1.>`. */
  subjects?: string[];
  /** Age after which the stream drops a message. Default (at creation) 7 days. */
  maxAge?: number;
  /** The stream's size limit in bytes (the oldest messages go). Default none. */
  maxBytes?: number;
  /** The stream's message limit (the oldest go). Default none. */
  maxMessages?: number;
  /** Copies of the stream in a cluster. Default (at creation) 1. */
  replicas?: number;
  /** Time in which a repeated event id is dropped as a duplicate. Default (at creation) 2 min. */
  duplicateWindow?: number;
  /**
   * Deliveries of a message without an acknowledgement (its member crashed,
   * or outlived `ackWait`, or a closing member returned it unstarted) before
   * it is dead-lettered. Default 10.
   */
  maxDeliver?: number;
  /** Time the server waits for an acknowledgement before delivering again. Default 30 s. */
  ackWait?: number;
  /** Messages a group holds unacknowledged at once. Default 1,000. */
  maxAckPending?: number;
  /** Waits before the server delivers an unacknowledged message again (one per delivery, the last repeats). Default `ackWait`. */
  backoff?: number[];
}
