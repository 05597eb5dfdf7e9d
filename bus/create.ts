import type { ValueSchema } from "@cqi/codec";
import type { EventBusConfig } from "@cqi/config";
import type { ServiceIdentity } from "@cqi/http";
import type { BusDriver } from "./backends/driver.ts";
import { kafkajsDriver } from "./backends/kafka_kafkajs.ts";
import type { KafkaDriverOptions } from "./backends/kafka_options.ts";
import { MemoryBroker, memoryDriver } from "./backends/memory.ts";
import { natsDriver } from "./backends/nats_jetstream.ts";
import { natsDriverOptions } from "./nats_settings.ts";
import { duration, whole } from "./option_checks.ts";
import { BusClient, type PublishInfo } from "./bus.ts";
import type { DeadLetterInfo } from "./deliver.ts";
import type { Bus, Middleware, NatsOptions } from "./types.ts";
import { parseTarget } from "./url.ts";

/**
 * Options of {@linkcode createBus}. Durations are milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { BusOptions } from "@cqi/bus";
 *
 * const options: BusOptions = { service: { name: "cqpm" }, publishTimeout: 5_000 };
 * ```
 */
export interface BusOptions {
  /** `ce_source` of published events, the client id, and the default group. Default `app`. */
  service?: ServiceIdentity;
  /** The group of subscriptions that name none. Default the config's `consumerGroup`, else the service name. */
  group?: string;
  /** Protobuf schemas (or codecs) of the `publish(topic, message)` and `subscribe(topic, handler)` forms. */
  schemas?: ValueSchema[];
  /** Middleware of every subscription, outermost first (such as `@cqi/service`'s `busHooks`). */
  middleware?: Middleware[];
  /** Called when a publish settles (for metrics). A throw is ignored. */
  onPublish?: (info: PublishInfo) => void;
  /** Called for each dead letter and failed dead-letter send. A throw is ignored. */
  onDeadLetter?: (info: DeadLetterInfo) => void;
  /** Time a publish waits for the broker's acknowledgement. Default 10 s. */
  publishTimeout?: number;
  /**
   * Time `close()` lets handlers in flight run; then their `signal` aborts
   * and their messages are left uncommitted. Default 10 s.
   */
  closeTimeout?: number;
  /** Kafka and NATS: time allowed to connect. Default 5 s. */
  connectionTimeout?: number;
  /** Kafka and NATS: time allowed for one request (NATS: a publish's acknowledgement). Default 10 s. */
  requestTimeout?: number;
  /** Partitions of topics the bus creates. Default: memory 3, Kafka the broker's `num.partitions`. */
  partitions?: number;
  /** Memory: records kept per partition. Default 10,000. */
  retention?: number;
  /** Kafka: consumer session timeout. Default 10 s. */
  sessionTimeout?: number;
  /** NATS: credentials, the stream and the durable consumers (over the config's and the URL's). */
  nats?: NatsOptions;
}

const brokers = new Map<string, MemoryBroker>();

/**
 * Opens an event bus, chosen by what it is given:
 * - nothing or `memory://`: a broker inside this bus (tests, examples);
 *   `memory://name` shares one by name across the process;
 * - `kafka://host:port,host:port` (every bootstrap broker) or the config's
 *   `eventBus` section: Apache Kafka, with an idempotent producer and
 *   acknowledgement by all in-sync replicas;
 * - `nats://[user:password@]host:port,host:port` (every server) or the
 *   config's section: NATS JetStream, on a stream of file storage (see
 *   {@linkcode NatsOptions}) with a durable consumer per group and topic.
 *
 * Messages carry CloudEvents headers (`ce_id`, `ce_type`, `ce_source`,
 * `ce_time`, `content-type`) and the publisher's trace context.
 *
 * @example Memory
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
 * @example Kafka, from the config
 * ```ts ignore
 * import { mustLoad } from "@cqi/config";
 * import { createBus } from "@cqi/bus";
 *
 * const config = await mustLoad();
 * await using bus = createBus(config.eventBus ?? "memory://", { service: config.service });
 * ```
 *
 * @param source A config section, a URL, or nothing for memory.
 * @param options Identity, hooks, middleware and timeouts.
 * @returns The bus.
 */
export function createBus(
  source?: EventBusConfig | string | URL,
  options: BusOptions = {},
): Bus {
  const target = parseTarget(source);
  const service = serviceName(options.service);
  for (const name of ["onPublish", "onDeadLetter"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw new TypeError(`createBus: ${name} must be a function`);
    }
  }
  const middleware = options.middleware ?? [];
  if (
    !Array.isArray(middleware) ||
    middleware.some((m) => typeof m !== "function")
  ) {
    throw new TypeError("createBus: middleware must be an array of functions");
  }
  const connectionTimeout = duration(
    options.connectionTimeout,
    5_000,
    "connectionTimeout",
  );
  const requestTimeout = duration(
    options.requestTimeout,
    10_000,
    "requestTimeout",
  );
  const partitions = options.partitions === undefined
    ? undefined
    : whole(options.partitions, "partitions");
  let driver: BusDriver;
  if (target.backend === "memory") {
    const settings = {
      partitions: partitions ?? 3,
      retention: options.retention === undefined
        ? 10_000
        : whole(options.retention, "retention"),
    };
    let broker = target.name === "" ? undefined : brokers.get(target.name);
    if (broker === undefined) {
      broker = new MemoryBroker(settings);
      if (target.name !== "") brokers.set(target.name, broker);
    }
    driver = memoryDriver(broker);
  } else if (target.backend === "nats") {
    driver = natsDriver(natsDriverOptions({
      servers: target.servers,
      clientId: service,
      nats: { ...target.nats, ...plainObject(options.nats, "nats") },
      connectionTimeout,
      requestTimeout,
    }));
  } else {
    const sessionTimeout = duration(
      options.sessionTimeout,
      10_000,
      "sessionTimeout",
    );
    const kafka: KafkaDriverOptions = {
      brokers: target.brokers,
      clientId: service,
      connectionTimeout,
      requestTimeout,
      partitions,
      sessionTimeout,
      heartbeatInterval: Math.max(100, Math.floor(sessionTimeout / 4)),
    };
    driver = kafkajsDriver(kafka);
  }
  const group = options.group ?? target.group ?? service;
  return new BusClient({
    driver,
    source: service,
    group,
    publishTimeout: duration(options.publishTimeout, 10_000, "publishTimeout"),
    closeTimeout: duration(options.closeTimeout, 10_000, "closeTimeout"),
    middleware,
    schemas: options.schemas ?? [],
    onPublish: options.onPublish,
    onDeadLetter: options.onDeadLetter,
  });
}

function serviceName(service: ServiceIdentity | undefined): string {
  if (service === undefined) return "app";
  if (typeof service?.name !== "string" || service.name === "") {
    throw new TypeError("createBus: service.name must be a non-empty string");
  }
  return service.name;
}

function plainObject<T>(value: T | undefined, name: string): T | undefined {
  if (
    value !== undefined &&
    (typeof value !== "object" || value === null || Array.isArray(value))
  ) {
    throw new TypeError(`createBus: ${name} must be an object`);
  }
  return value;
}
