import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { createBus } from "@cqi/bus";
import { bytes, type Codec, json } from "@cqi/codec";
import { permanent, temporary } from "@cqi/errors";
import { createLogger, type Logger, memorySink } from "@cqi/logging";
import { createRegistry, type MetricsRegistry } from "@cqi/metrics";
import { FakeClock } from "./testdata/fake_clock.ts";
import { bootstrap, busHooks, withLogging, withMetrics } from "./mod.ts";

const TYPE = "cqc.events.v1.Ping";
const TOPIC = "cqc.events.v1.ping";
const Ping = json<{ n: number; secret: string }>(undefined, { name: TYPE });
// Raw bytes under Ping's type name: a payload that does not decode.
const Raw: Codec<Uint8Array> = { ...bytes, name: TYPE };

/** Polls `check` until it holds (deliveries settle after the handler returns). */
async function until(what: string, check: () => boolean | Promise<boolean>) {
  const end = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`${what}: not within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function includesAll(text: string, lines: string[]): void {
  const all = text.split("\n");
  for (const line of lines) {
    assert.ok(all.includes(line), `${line}\nnot in\n${text}`);
  }
}

/** A delivery as the bus's middleware gets it. */
function delivery(overrides: Record<string, unknown> = {}) {
  return {
    topic: "orders",
    partition: 2,
    offset: "41",
    group: "billing",
    attempt: 1,
    lag: 7,
    id: "e-1",
    type: "cqc.events.v1.OrderPlaced",
    ...overrides,
  };
}

describe("busHooks", () => {
  const sink = memorySink();
  const logger = createLogger({
    service: { name: "cqpm" },
    output: sink,
    level: "debug",
  });

  after(() => logger.close());

  it("counts deliveries by outcome after retries, times them and sets the lag", async () => {
    const registry = createRegistry({
      namespace: "cqpm",
      defaultMetrics: false,
    });
    sink.clear();
    await using bus = createBus("memory://", {
      ...busHooks("main", { registry, logger, clock: new FakeClock() }),
    });
    const partitions = new Set<number>();
    const tries = new Map<number, number>();
    await bus.subscribe(Ping, (message) => {
      partitions.add(message.partition);
      const n = message.value.n;
      tries.set(n, (tries.get(n) ?? 0) + 1);
      if (n === 2) throw permanent("no such account");
      if (n === 3) throw new Error("bug in handler");
      // fails once, then succeeds on the bus's retry
      if (n === 4 && tries.get(n) === 1) throw temporary("database busy");
    }, { group: "ledger", retry: { maxAttempts: 3, initialDelay: 1 } });

    const options = { key: "acct-s3cr3t", headers: { tenant: "t-s3cr3t" } };
    for (const n of [1, 2, 3, 4]) {
      await bus.publish(Ping, { n, secret: "s3cr3t" }, options);
    }
    await bus.publish(Raw, new TextEncoder().encode('{"secret":"s3cr3t'), {
      ...options,
      topic: TOPIC,
    });

    const count = (outcome: string) =>
      `cqpm_bus_messages_total{bus="main",topic="${TOPIC}",group="ledger",outcome="${outcome}"}`;
    await until("five deliveries", async () => {
      const text = await registry.metrics();
      return text.includes(
        `cqpm_bus_dead_letters_total{bus="main",topic="${TOPIC}",group="ledger",kind="invalid_input",outcome="sent"} 1`,
      );
    });
    const text = await registry.metrics();
    assert.equal(partitions.size, 1);
    const [partition] = partitions;
    includesAll(text, [
      `${count("ok")} 2`,
      `${count("permanent")} 1`,
      `${count("unknown")} 1`,
      `${count("invalid_input")} 1`,
      `cqpm_bus_handle_duration_seconds_count{bus="main",topic="${TOPIC}",group="ledger"} 5`,
      `cqpm_bus_published_total{bus="main",topic="${TOPIC}",outcome="ok"} 5`,
      `cqpm_bus_publish_duration_seconds_count{bus="main",topic="${TOPIC}"} 5`,
      `cqpm_bus_dead_letters_total{bus="main",topic="${TOPIC}",group="ledger",kind="permanent",outcome="sent"} 1`,
      `cqpm_bus_dead_letters_total{bus="main",topic="${TOPIC}",group="ledger",kind="unknown",outcome="sent"} 1`,
      `cqpm_bus_dead_letters_total{bus="main",topic="${TOPIC}",group="ledger",kind="invalid_input",outcome="sent"} 1`,
    ]);
    assert.match(
      text,
      new RegExp(
        `cqpm_bus_consumer_lag\\{bus="main",topic="${TOPIC}",group="ledger",partition="${partition}"\\} \\d+\\n`,
      ),
    );
    assert.equal(tries.get(4), 2);

    // The first failure of the topic is logged, the next two throttled.
    const failed = sink.records.filter((r) => r.message === "message failed");
    assert.equal(failed.length, 1);
    const [line] = failed;
    assert.equal(line.level, "warn");
    assert.equal(line.bus, "main");
    assert.equal(line.topic, TOPIC);
    assert.equal(line.group, "ledger");
    assert.equal(line.partition, partition);
    assert.equal(typeof line.offset, "string");
    assert.equal(line.attempt, 1);
    assert.equal(line.error_kind, "permanent");
    assert.equal(line.error_message, "no such account");
    assert.equal(line.suppressed, undefined);
    const dead = sink.records.filter((r) =>
      r.message === "message dead-lettered"
    );
    assert.equal(dead.length, 1);
    assert.equal(dead[0].level, "warn");
    assert.equal(dead[0].error_kind, "permanent");
    assert.equal(dead[0].outcome, "sent");
    const handled = sink.records.filter((r) => r.message === "message handled");
    assert.equal(handled.length, 2);
    assert.equal(handled[0].level, "debug");

    const logged = JSON.stringify(sink.records);
    for (const secret of ["s3cr3t", "tenant", "stack", "cause"]) {
      assert.ok(!logged.includes(secret), `${secret} in ${logged}`);
      assert.ok(!text.includes(secret), `${secret} in ${text}`);
    }
  });

  it("logs failures and dead letters at most once per topic per 10 s", async () => {
    const clock = new FakeClock();
    sink.clear();
    const hooks = busHooks("main", { logger, clock });
    const [middleware] = hooks.middleware;
    const fail = (message: ReturnType<typeof delivery>) =>
      middleware(message, () => Promise.reject(temporary("broker away")))
        .catch(() => {});
    await fail(delivery());
    await fail(delivery({ offset: "42" }));
    await fail(delivery({ topic: "payments" }));
    await fail(delivery({ offset: "43" }));
    const failed = () =>
      sink.records.filter((r) => r.message === "message failed");
    assert.deepEqual(failed().map((r) => [r.topic, r.offset]), [
      ["orders", "41"],
      ["payments", "41"],
    ]);
    clock.advance(9_999);
    await fail(delivery({ offset: "44" }));
    assert.equal(failed().length, 2);
    clock.advance(1);
    await fail(delivery({ offset: "45" }));
    assert.deepEqual(failed().slice(2).map((r) => [r.offset, r.suppressed]), [
      ["45", 3],
    ]);

    const letter = {
      topic: "orders",
      group: "billing",
      kind: "permanent",
    } as const;
    hooks.onDeadLetter({ ...letter, outcome: "sent" });
    hooks.onDeadLetter({ ...letter, outcome: "dropped" });
    hooks.onDeadLetter({
      ...letter,
      outcome: "failed",
      error: temporary("broker unreachable"),
    });
    hooks.onDeadLetter({
      ...letter,
      outcome: "failed",
      error: temporary("broker unreachable"),
    });
    const lines = sink.records.filter((r) =>
      r.message === "message dead-lettered" ||
      r.message === "dead letter send failed"
    );
    assert.deepEqual(lines.map((r) => [r.level, r.message]), [
      ["warn", "message dead-lettered"],
      ["error", "dead letter send failed"],
    ]);
    assert.equal(lines[1].failure_kind, "permanent");
    assert.equal(lines[1].error_kind, "temporary");
    assert.equal(lines[1].error_message, "broker unreachable");
    clock.advance(10_000);
    hooks.onDeadLetter({ ...letter, outcome: "dropped" });
    const last = sink.records.at(-1)!;
    assert.equal(last.message, "message dead-lettered");
    assert.equal(last.outcome, "dropped");
    assert.equal(last.suppressed, 1);
  });

  it("counts publishes by outcome and dead letters by kind and outcome", async () => {
    const registry = createRegistry({
      namespace: "cqpm",
      defaultMetrics: false,
    });
    await using bus = createBus("memory://", {
      ...busHooks("events", { registry }),
    });
    await bus.publish(Ping, { n: 1, secret: "s3cr3t" });
    const Loose = json<unknown>(undefined, { name: TYPE });
    await assert.rejects(bus.publish(Loose, { n: 1n }), {
      kind: "invalid_input",
    });
    await bus.subscribe(Ping, () => {
      throw permanent("refused");
    }, { group: "audit", deadLetter: false });
    await until(
      "the dropped letter",
      async () =>
        (await registry.metrics()).includes(
          `cqpm_bus_dead_letters_total{bus="events",topic="${TOPIC}",group="audit",kind="permanent",outcome="dropped"} 1`,
        ),
    );
    includesAll(await registry.metrics(), [
      `cqpm_bus_published_total{bus="events",topic="${TOPIC}",outcome="ok"} 1`,
      `cqpm_bus_published_total{bus="events",topic="${TOPIC}",outcome="invalid_input"} 1`,
      `cqpm_bus_publish_duration_seconds_count{bus="events",topic="${TOPIC}"} 2`,
    ]);
  });

  it("sets the lag gauge from each delivery's lag, when known", async () => {
    const registry = createRegistry({
      namespace: "cqpm",
      defaultMetrics: false,
    });
    const middleware = withMetrics(registry, { bus: "main" });
    const ok = () => Promise.resolve();
    await middleware(delivery({ lag: 7 }), ok);
    await middleware(delivery({ partition: 0, lag: 3 }), ok);
    await middleware(delivery({ lag: 5 }), ok);
    await middleware(delivery({ lag: undefined }), ok);
    const text = await registry.metrics();
    includesAll(text, [
      'cqpm_bus_consumer_lag{bus="main",topic="orders",group="billing",partition="2"} 5',
      'cqpm_bus_consumer_lag{bus="main",topic="orders",group="billing",partition="0"} 3',
      'cqpm_bus_messages_total{bus="main",topic="orders",group="billing",outcome="ok"} 4',
    ]);
  });

  it("never fails a delivery because the logger or the registry throws", async () => {
    const boom = () => {
      throw new Error("telemetry down");
    };
    const series = { inc: boom, observe: boom, set: boom };
    const collector = { labels: () => series, inc: boom, set: boom };
    const registry = {
      namespace: "cqpm",
      counter: () => collector,
      histogram: () => collector,
      gauge: () => collector,
    } as unknown as MetricsRegistry;
    const logger = new Proxy({}, {
      get: (_, name) => name === "isLevelEnabled" ? () => true : boom,
    }) as Logger;
    const hooks = busHooks("main", { registry, logger });
    const [middleware] = hooks.middleware;
    await middleware(delivery(), () => Promise.resolve());
    const error = new Error("handler failed");
    await assert.rejects(
      middleware(delivery(), () => Promise.reject(error)),
      (thrown) => thrown === error,
    );
    hooks.onPublish({ topic: "orders", type: "x", outcome: "ok", duration: 1 });
    hooks.onDeadLetter({
      topic: "orders",
      group: "billing",
      kind: "unknown",
      outcome: "failed",
      error,
    });

    // And on a real bus: the handler runs, a failure is dead-lettered with
    // its own kind.
    await using bus = createBus("memory://", {
      ...busHooks("main", { registry, logger }),
    });
    const handled: number[] = [];
    await bus.subscribe(Ping, (message) => {
      handled.push(message.value.n);
      if (message.value.n === 2) throw permanent("refused");
    }, { group: "ledger" });
    const letters: string[] = [];
    await bus.subscribe(bytes, (message) => {
      letters.push(message.headers["cqi-error-kind"]);
    }, { topic: `${TOPIC}.dlq`, group: "dlq", deadLetter: false });
    await bus.publish(Ping, { n: 1, secret: "" }, { key: "k" });
    await bus.publish(Ping, { n: 2, secret: "" }, { key: "k" });
    await until("the dead letter", () => letters.length === 1);
    assert.deepEqual(handled, [1, 2]);
    assert.deepEqual(letters, ["permanent"]);
  });

  it("withLogging logs alone, withMetrics counts alone", async () => {
    sink.clear();
    const registry = createRegistry({
      namespace: "cqpm",
      defaultMetrics: false,
    });
    const logging = withLogging(logger, { bus: "side" });
    const metrics = withMetrics(registry);
    const fail = () => Promise.reject(permanent("no"));
    await assert.rejects(logging(delivery(), fail), { kind: "permanent" });
    await assert.rejects(metrics(delivery(), fail), { kind: "permanent" });
    assert.deepEqual(
      sink.records.map((r) => [r.message, r.bus, r.error_kind]),
      [["message failed", "side", "permanent"]],
    );
    includesAll(await registry.metrics(), [
      'cqpm_bus_messages_total{bus="main",topic="orders",group="billing",outcome="permanent"} 1',
    ]);
  });

  it("is bound to bootstrap's logger and registry", async () => {
    const lines = memorySink();
    const app = bootstrap({
      service: { name: "order-service" },
      metrics: { enabled: true },
    }, { logOutput: lines, defaultMetrics: false, setDefaultLogger: false });
    const hooks = app.busHooks("main");
    await assert.rejects(
      hooks.middleware[0](delivery(), () => Promise.reject(temporary("busy"))),
    );
    hooks.onPublish({
      topic: "orders",
      type: "x",
      outcome: "ok",
      duration: 2,
    });
    includesAll(await app.registry!.metrics(), [
      'order_service_bus_messages_total{bus="main",topic="orders",group="billing",outcome="temporary"} 1',
      'order_service_bus_published_total{bus="main",topic="orders",outcome="ok"} 1',
    ]);
    await app.shutdown();
    assert.equal(lines.records[0].message, "message failed");
  });

  it("refuses a nameless bus", () => {
    assert.throws(() => busHooks(""), TypeError);
    const registry = createRegistry({ namespace: "x", defaultMetrics: false });
    assert.throws(() => withMetrics(registry, { bus: "" }), TypeError);
    assert.throws(() => withLogging(logger, { bus: "" }), TypeError);
  });
});
