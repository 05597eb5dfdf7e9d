import { kindOf } from "@cqi/errors";
import type { Logger } from "@cqi/logging";
import { durationBuckets, type MetricsRegistry } from "@cqi/metrics";
import { type Clock, systemClock } from "@cqi/retry";
import type { ObserveOptions } from "./observe.ts";
import { seriesCache, throttle } from "./report_helpers.ts";

/**
 * Where {@linkcode busHooks} reports, and the clock of its log throttle.
 *
 * @example Usage
 * ```ts
 * import { createLogger } from "@cqi/logging";
 * import type { BusObserveOptions } from "@cqi/service";
 *
 * const options: BusObserveOptions = {
 *   logger: createLogger({ service: { name: "cqpm" } }),
 * };
 * ```
 */
export interface BusObserveOptions extends ObserveOptions {
  /** The clock of the log lines' throttle (only `now()` is used). Default the system clock. */
  clock?: Clock;
}

// A delivery, a publish and a dead letter as `@cqi/bus` describes them to
// its hooks (written out in the signature below: service does not import
// the bus module, which sits above it).
type Hooks = ReturnType<typeof busHooks>;
type Delivered = Parameters<Hooks["middleware"][0]>[0];
type PublishInfo = Parameters<Hooks["onPublish"]>[0];
type DeadLetterInfo = Parameters<Hooks["onDeadLetter"]>[0];

/**
 * The hooks of `createBus()` from `@cqi/bus`, reporting the bus named `bus`.
 * A middleware runs outermost around every delivery, so that it sees the
 * outcome after the bus's own retries (and payloads that do not decode, as
 * `invalid_input`); `onPublish` and `onDeadLetter` are the bus's own hooks:
 * - `{ns}_bus_messages_total{bus, topic, group, outcome}` per delivery,
 *   where outcome is `ok` or the error's kind (`unknown` for an error that
 *   is not a `CqiError`), and `{ns}_bus_handle_duration_seconds{bus, topic,
 *   group}` from its start to its outcome, retries included;
 * - `{ns}_bus_consumer_lag{bus, topic, group, partition}`: the messages
 *   after the last one delivered in its partition when it was fetched (kept
 *   at its last value once the partition is no longer consumed here);
 * - for each failed delivery a `warn` line `message failed` with `bus`,
 *   `topic`, `group`, `partition`, `offset`, `attempt`, `error_kind` and
 *   `error_message` (the message alone: no cause, no stack), at most one
 *   per topic every 10 s so that a poison stream does not flood the log;
 *   the next line says in `suppressed` how many were left out. Nothing is
 *   logged per success but a `debug` line `message handled`;
 * - `{ns}_bus_published_total{bus, topic, outcome}` and
 *   `{ns}_bus_publish_duration_seconds{bus, topic}` per publish;
 * - `{ns}_bus_dead_letters_total{bus, topic, group, kind, outcome}` per dead
 *   letter, where kind is why the message failed and outcome `sent` (to the
 *   dead-letter topic), `dropped` (none configured) or `failed` (a send that
 *   failed and is retried); a `warn` line `message dead-lettered` for the
 *   first two and an `error` line `dead letter send failed` for the last,
 *   each at most once per topic every 10 s.
 *
 * Values, keys and headers never reach a log line or a metric, and a
 * failing logger or registry never fails a delivery: the middleware
 * rethrows the handler's error unchanged. Tracing needs no hook: the bus
 * makes a consumer span per delivery. `bootstrap()` gives hooks bound to
 * its logger and registry.
 *
 * @example Usage
 * ```ts
 * import { createBus } from "@cqi/bus";
 * import { json } from "@cqi/codec";
 * import { createRegistry } from "@cqi/metrics";
 * import { busHooks } from "@cqi/service";
 *
 * const registry = createRegistry({ namespace: "cqpm" });
 * await using bus = createBus("memory://", { ...busHooks("main", { registry }) });
 * const Ping = json<{ n: number }>(undefined, { name: "cqc.events.v1.Ping" });
 * const done = Promise.withResolvers<void>();
 * await bus.subscribe(Ping, () => done.resolve(), { group: "demo" });
 * await bus.publish(Ping, { n: 1 });
 * await done.promise;
 * const text = await registry.metrics();
 * console.log(text.includes(
 *   'cqpm_bus_published_total{bus="main",topic="cqc.events.v1.ping",outcome="ok"} 1',
 * )); // true
 * ```
 *
 * @param bus A low-cardinality name for the bus, such as `main`.
 * @param options The logger and registry, the throttle's clock.
 * @returns `{ middleware, onPublish, onDeadLetter }`, to spread into the
 *   `createBus` options.
 */
export function busHooks(
  bus: string,
  options: BusObserveOptions = {},
): {
  middleware: [
    <
      M extends {
        readonly topic: string;
        readonly partition: number;
        readonly offset: string;
        readonly group: string;
        readonly attempt: number;
        readonly lag?: number | undefined;
      },
    >(message: M, next: (message: M) => Promise<void>) => Promise<void>,
  ];
  onPublish: (
    info: { topic: string; type: string; outcome: string; duration: number },
  ) => void;
  onDeadLetter: (
    info: {
      topic: string;
      group: string;
      kind: string;
      outcome: "sent" | "dropped" | "failed";
      error?: unknown;
    },
  ) => void;
} {
  checkName(bus, "busHooks: bus");
  const { logger, registry } = options;
  const clock = options.clock ?? systemClock;
  const middleware = observeDeliveries(bus, logger, registry, clock);
  const published = registry?.counter({
    name: "bus_published_total",
    help:
      "Events published, by topic and outcome (ok or the error kind) once the broker acknowledged or the publish failed.",
    labelNames: ["bus", "topic", "outcome"],
  });
  const publishDurations = registry?.histogram({
    name: "bus_publish_duration_seconds",
    help:
      "Duration of publishes, from the call to the broker's acknowledgement or the failure, by topic.",
    labelNames: ["bus", "topic"],
    buckets: durationBuckets,
  });
  const deadLetters = registry?.counter({
    name: "bus_dead_letters_total",
    help:
      "Messages that failed for good, by topic, group, the failure's kind and outcome (sent to the dead-letter topic, dropped, or a send that failed).",
    labelNames: ["bus", "topic", "group", "kind", "outcome"],
  });
  const cached = seriesCache();
  const throttled = throttle(clock);

  const onPublish = (info: PublishInfo) => {
    const { topic, outcome } = info;
    quietly(() => {
      if (published === undefined || publishDurations === undefined) return;
      cached(
        `p\0${topic}\0${outcome}`,
        () => published.labels({ bus, topic, outcome }),
      ).inc();
      if (typeof info.duration === "number" && info.duration >= 0) {
        cached(
          `d\0${topic}`,
          () => publishDurations.labels({ bus, topic }),
        ).observe(info.duration / 1000);
      }
    });
  };

  const onDeadLetter = (info: DeadLetterInfo) => {
    const { topic, group, kind, outcome } = info;
    quietly(() => {
      if (deadLetters === undefined) return;
      cached(
        `l\0${topic}\0${group}\0${kind}\0${outcome}`,
        () => deadLetters.labels({ bus, topic, group, kind, outcome }),
      ).inc();
    });
    if (logger === undefined) return;
    quietly(() => {
      const failed = outcome === "failed";
      const suppressed = throttled(`${failed ? "f" : "d"}\0${topic}`);
      if (suppressed === undefined) return;
      const fields = {
        bus,
        topic,
        group,
        ...(failed
          ? { failure_kind: kind, ...errorFields(info.error) }
          : { error_kind: kind, outcome }),
        ...(suppressed > 0 && { suppressed }),
      };
      if (failed) logger.error("dead letter send failed", fields);
      else logger.warn("message dead-lettered", fields);
    });
  };

  return { middleware: [middleware], onPublish, onDeadLetter };
}

/**
 * The spec's `withLogging(logger)`: the middleware of {@linkcode busHooks}
 * with its log lines alone. That is a `warn` line `message failed` per
 * failed delivery (at most one per topic every 10 s) and a `debug` line
 * `message handled` per success. Give it to `createBus()` in `middleware`,
 * first, so that it sees the outcome after the bus's retries.
 *
 * @example Usage
 * ```ts
 * import { createBus } from "@cqi/bus";
 * import { json } from "@cqi/codec";
 * import { permanent } from "@cqi/errors";
 * import { createLogger, memorySink } from "@cqi/logging";
 * import { withLogging } from "@cqi/service";
 *
 * const sink = memorySink();
 * const logger = createLogger({ service: { name: "cqpm" }, output: sink });
 * await using bus = createBus("memory://", { middleware: [withLogging(logger)] });
 * const Ping = json<{ n: number }>(undefined, { name: "cqc.events.v1.Ping" });
 * const done = Promise.withResolvers<void>();
 * await bus.subscribe(Ping, () => {
 *   done.resolve();
 *   throw permanent("no such account");
 * }, { group: "demo", deadLetter: false });
 * await bus.publish(Ping, { n: 1 });
 * await done.promise;
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * console.log(sink.records[0].message, sink.records[0].error_kind); // "message failed" "permanent"
 * ```
 *
 * @param logger Where the lines go.
 * @param options The bus's name in the lines (default `main`), the
 *   throttle's clock.
 * @returns The middleware.
 */
export function withLogging(
  logger: Logger,
  options: { bus?: string; clock?: Clock } = {},
): ReturnType<typeof busHooks>["middleware"][0] {
  if (logger === undefined || logger === null) {
    throw new TypeError("withLogging: logger is required");
  }
  const bus = options.bus ?? "main";
  checkName(bus, "withLogging: bus");
  return observeDeliveries(
    bus,
    logger,
    undefined,
    options.clock ?? systemClock,
  );
}

/**
 * The spec's `withMetrics(registry)`: the middleware of {@linkcode busHooks}
 * with its metrics alone. Those are `{ns}_bus_messages_total{bus, topic,
 * group, outcome}`, `{ns}_bus_handle_duration_seconds{bus, topic, group}`
 * and `{ns}_bus_consumer_lag{bus, topic, group, partition}`. Give it to
 * `createBus()` in `middleware`, first, so that it sees the outcome after
 * the bus's retries.
 *
 * @example Usage
 * ```ts
 * import { createBus } from "@cqi/bus";
 * import { json } from "@cqi/codec";
 * import { createRegistry } from "@cqi/metrics";
 * import { withMetrics } from "@cqi/service";
 *
 * const registry = createRegistry({ namespace: "cqpm" });
 * await using bus = createBus("memory://", { middleware: [withMetrics(registry)] });
 * const Ping = json<{ n: number }>(undefined, { name: "cqc.events.v1.Ping" });
 * const done = Promise.withResolvers<void>();
 * await bus.subscribe(Ping, () => done.resolve(), { group: "demo" });
 * await bus.publish(Ping, { n: 1 });
 * await done.promise;
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * console.log((await registry.metrics()).includes(
 *   'cqpm_bus_messages_total{bus="main",topic="cqc.events.v1.ping",group="demo",outcome="ok"} 1',
 * )); // true
 * ```
 *
 * @param registry Where the metrics go.
 * @param options The bus's `bus` label (default `main`).
 * @returns The middleware.
 */
export function withMetrics(
  registry: MetricsRegistry,
  options: { bus?: string } = {},
): ReturnType<typeof busHooks>["middleware"][0] {
  if (registry === undefined || registry === null) {
    throw new TypeError("withMetrics: registry is required");
  }
  const bus = options.bus ?? "main";
  checkName(bus, "withMetrics: bus");
  return observeDeliveries(bus, undefined, registry, systemClock);
}

/** The delivery middleware: metrics when given a registry, lines when given a logger. */
function observeDeliveries(
  bus: string,
  logger: Logger | undefined,
  registry: MetricsRegistry | undefined,
  clock: Clock,
): Hooks["middleware"][0] {
  const messages = registry?.counter({
    name: "bus_messages_total",
    help:
      "Messages delivered to subscribers, by topic, consumer group and outcome (ok or the error kind) after the bus's retries.",
    labelNames: ["bus", "topic", "group", "outcome"],
  });
  const durations = registry?.histogram({
    name: "bus_handle_duration_seconds",
    help:
      "Duration of deliveries, from the start to the outcome with the bus's retries, by topic and consumer group.",
    labelNames: ["bus", "topic", "group"],
    buckets: durationBuckets,
  });
  const lags = registry?.gauge({
    name: "bus_consumer_lag",
    help:
      "Messages after the last one delivered in each partition, when it was fetched.",
    labelNames: ["bus", "topic", "group", "partition"],
  });
  const cached = seriesCache();
  const throttled = throttle(clock);

  const record = (message: Delivered, outcome: string, started: number) => {
    if (messages === undefined || durations === undefined) return;
    const { topic, group } = message;
    cached(
      `m\0${topic}\0${group}\0${outcome}`,
      () => messages.labels({ bus, topic, group, outcome }),
    ).inc();
    cached(
      `h\0${topic}\0${group}`,
      () => durations.labels({ bus, topic, group }),
    ).observe((performance.now() - started) / 1000);
  };

  const lag = (message: Delivered) => {
    if (lags === undefined) return;
    const value = message.lag;
    if (typeof value !== "number" || !Number.isFinite(value)) return;
    const { topic, group } = message;
    const partition = String(message.partition);
    cached(
      `g\0${topic}\0${group}\0${partition}`,
      () => lags.labels({ bus, topic, group, partition }),
    ).set(value);
  };

  const failed = (message: Delivered, error: unknown) => {
    if (logger === undefined) return;
    const suppressed = throttled(message.topic);
    if (suppressed === undefined) return;
    logger.warn("message failed", {
      bus,
      topic: message.topic,
      group: message.group,
      partition: message.partition,
      offset: message.offset,
      attempt: message.attempt,
      ...errorFields(error),
      ...(suppressed > 0 && { suppressed }),
    });
  };

  const handled = (message: Delivered, started: number) => {
    if (logger === undefined || !logger.isLevelEnabled("debug")) return;
    logger.debug("message handled", {
      bus,
      topic: message.topic,
      group: message.group,
      partition: message.partition,
      offset: message.offset,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
  };

  return async (message, next) => {
    const started = performance.now();
    quietly(() => lag(message));
    try {
      await next(message);
    } catch (error) {
      quietly(() => record(message, kindOf(error) ?? "unknown", started));
      quietly(() => failed(message, error));
      throw error;
    }
    quietly(() => record(message, "ok", started));
    quietly(() => handled(message, started));
  };
}

/** The kind and message of an error, for a log line (no cause, no stack). */
function errorFields(
  error: unknown,
): { error_kind: string; error_message: string } {
  return {
    error_kind: kindOf(error) ?? "unknown",
    error_message: error instanceof Error ? String(error.message) : "",
  };
}

/** Runs `fn`, ignoring its failure: reporting never changes a delivery. */
function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // a failing logger or registry changes nothing
  }
}

function checkName(name: unknown, what: string): void {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`${what} must be a non-empty string`);
  }
}
