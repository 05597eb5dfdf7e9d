/**
 * Events on topics, typed by protobuf (or any codec), delivered at least
 * once to every consumer group: a broker in memory for tests and examples,
 * Apache Kafka or NATS JetStream for production.
 *
 * ```ts
 * import { createBus } from "@cqi/bus";
 * import { json } from "@cqi/codec";
 *
 * await using bus = createBus("memory://");
 * const Ping = json<{ n: number }>(undefined, { name: "cqc.events.v1.Ping" });
 * const got = Promise.withResolvers<number>();
 * await bus.subscribe(Ping, (m) => got.resolve(m.value.n), { group: "demo" });
 * await bus.publish(Ping, { n: 7 });
 * console.log(await got.promise); // 7
 * ```
 *
 * @module
 */
export type {
  Bus,
  Handler,
  Message,
  Middleware,
  NatsOptions,
  Next,
  Published,
  PublishOptions,
  RetryPolicyOptions,
  SubscribeOptions,
  Subscription,
} from "./types.ts";
export { type BusOptions, createBus } from "./create.ts";
export type { PublishInfo } from "./bus.ts";
export type { DeadLetterInfo } from "./deliver.ts";
export { retry, withRetry } from "./retry.ts";
export { timeout } from "./timeout.ts";
export { topicOf } from "./topic.ts";
