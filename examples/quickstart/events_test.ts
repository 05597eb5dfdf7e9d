// The quickstart's events: the outbox (a put and its PositionChanged commit
// together), its relay (in order, through outages, nothing lost) and the
// subscriber that drops cached positions. PGlite and the memory bus.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { type Bus, createBus } from "@cqi/bus";
import { createCache } from "@cqi/cache";
import { json } from "@cqi/codec";
import { createDatabase, type Database, migrate } from "@cqi/database";
import { invalidInput, temporary } from "@cqi/errors";
import { createLogger, memorySink } from "@cqi/logging";
import {
  type PositionChanged,
  PositionChangedSchema,
} from "../../proto/gen/cqc/quickstart/v1/positions_pb.ts";
import { cacheInvalidator } from "./invalidator.ts";
import { outboxRelay, recordChange } from "./outbox.ts";
import { databaseStore, positionKey } from "./store.ts";

let db: Database;
before(async () => {
  db = createDatabase("pglite://");
  await migrate(db, new URL("./migrations/", import.meta.url));
}, { timeout: 60_000 });
after(() => db.close());

/** A logger whose lines can be awaited. */
function watchedLogger() {
  const sink = memorySink();
  const waiters: {
    match: (r: Record<string, unknown>) => boolean;
    done: () => void;
  }[] = [];
  const logger = createLogger({
    output: {
      ...sink,
      write(line) {
        sink.write(line);
        const record = JSON.parse(line);
        for (const w of waiters.filter((w) => w.match(record))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.done();
        }
      },
    },
  });
  const until = (match: (r: Record<string, unknown>) => boolean) =>
    sink.records.some(match)
      ? Promise.resolve()
      : new Promise<void>((done) => waiters.push({ match, done }));
  return { logger, sink, until };
}

const outboxCount = async () =>
  Number(
    (await db.queryRow<{ n: string }>(
      "select count(*) as n from position_events",
    ))!.n,
  );

/** Every PositionChanged of `bus`, as it arrives; `until(n)` awaits n. */
async function collect(bus: Bus) {
  const events: PositionChanged[] = [];
  let wanted = Infinity;
  let reached = Promise.withResolvers<void>();
  await bus.subscribe(PositionChangedSchema, (m) => {
    events.push(m.value);
    if (events.length >= wanted) reached.resolve();
  }, { group: `test-${crypto.randomUUID()}`, from: "earliest" });
  return {
    events,
    until(n: number) {
      wanted = n;
      reached = Promise.withResolvers();
      if (events.length >= n) reached.resolve();
      return reached.promise;
    },
  };
}

describe("quickstart events", () => {
  it("commits a put and its event together, or neither", async () => {
    await db.exec("truncate positions, position_events");
    const store = databaseStore(db, { record: recordChange });
    await store.put("o1", { assetId: "BTC", quantity: 1.5 });
    const rows = await db.query<{ event_id: string; payload: Uint8Array }>(
      "select event_id, payload from position_events",
    );
    assert.equal(rows.length, 1);
    const event = fromBinary(PositionChangedSchema, rows[0].payload);
    assert.equal(event.eventId, rows[0].event_id);
    assert.deepEqual(
      {
        id: event.position?.id,
        assetId: event.position?.assetId,
        quantity: event.position?.quantity,
      },
      { id: "o1", assetId: "BTC", quantity: 1.5 },
    );

    const failing = databaseStore(db, {
      record: () => Promise.reject(temporary("outbox unavailable")),
    });
    await assert.rejects(failing.put("o2", { assetId: "ETH", quantity: 1 }));
    assert.equal(await store.get("o2"), undefined, "rolled back");
    assert.equal(await outboxCount(), 1);
  });

  it("publishes in order, keyed by position, and empties the outbox", async () => {
    await db.exec("truncate positions, position_events");
    await using bus = createBus("memory://");
    const seen = await collect(bus);
    const { logger } = watchedLogger();
    const relay = outboxRelay(db, bus, { logger, batch: 3 }); // several batches
    const store = databaseStore(db, {
      record: recordChange,
      onCommit: relay.wake,
    });
    for (let n = 0; n < 5; n++) {
      await store.put("a", { assetId: "A", quantity: n });
    }
    await store.put("b", { assetId: "B", quantity: 9 });
    await relay.start(new AbortController().signal);
    await seen.until(6);
    await relay.stop(new AbortController().signal);
    assert.deepEqual(
      seen.events.filter((e) => e.position?.id === "a").map((e) =>
        e.position?.quantity
      ),
      [0, 1, 2, 3, 4],
    );
    assert.equal(new Set(seen.events.map((e) => e.eventId)).size, 6);
    assert.equal(await outboxCount(), 0);
  });

  it("keeps events through a bus outage and publishes them after it", async () => {
    await db.exec("truncate positions, position_events");
    await using bus = createBus("memory://");
    const seen = await collect(bus);
    let down = true;
    let refused = Promise.withResolvers<void>();
    const flaky = {
      publish: (...args: Parameters<Bus["publish"]>) => {
        if (down) {
          refused.resolve();
          return Promise.reject(temporary("broker unreachable"));
        }
        return bus.publish(...args);
      },
    } as unknown as Bus;
    const { logger, until } = watchedLogger();
    const relay = outboxRelay(db, flaky, { logger, interval: 10 });
    const store = databaseStore(db, {
      record: recordChange,
      onCommit: relay.wake,
    });
    await relay.start(new AbortController().signal);
    for (let n = 0; n < 3; n++) {
      await store.put(`c${n}`, { assetId: "C", quantity: n });
    }
    await refused.promise;
    await until((r) => r.message === "outbox relay failed");
    assert.equal(await outboxCount(), 3, "nothing deleted while the bus fails");
    down = false;
    relay.wake();
    await seen.until(3);
    await until((r) => r.message === "outbox relay recovered");
    await relay.stop(new AbortController().signal);
    assert.deepEqual(seen.events.map((e) => e.position?.id).sort(), [
      "c0",
      "c1",
      "c2",
    ]);
    assert.equal(await outboxCount(), 0);
    refused = Promise.withResolvers();
  });

  it("deletes the events it published, not a later-committed smaller seq", async () => {
    await db.exec("truncate positions, position_events");
    await using bus = createBus("memory://");
    const seen = await collect(bus);
    const { logger } = watchedLogger();
    const record = async (seq: number, id: string) => {
      await recordChange(db, id, { assetId: "S", quantity: seq });
      await db.exec(
        "update position_events set seq = $1 where seq = (select max(seq) from position_events)",
        [seq],
      );
    };
    await record(1_000_001, "s1");
    await record(1_000_003, "s3");
    const first = outboxRelay(db, bus, { logger });
    await first.start(new AbortController().signal);
    await seen.until(2);
    await first.stop(new AbortController().signal);
    await record(1_000_002, "s2"); // a transaction that committed late
    assert.equal(await outboxCount(), 1);
    const second = outboxRelay(db, bus, { logger });
    await second.start(new AbortController().signal);
    await seen.until(3);
    await second.stop(new AbortController().signal);
    const ids = seen.events.map((e) => e.position?.id);
    assert.deepEqual([ids.slice(0, 2).sort(), ids[2]], [["s1", "s3"], "s2"]);
    assert.equal(await outboxCount(), 0);
  });

  it("stop publishes what is left before it resolves", async () => {
    await db.exec("truncate positions, position_events");
    await using bus = createBus("memory://");
    const seen = await collect(bus);
    const store = databaseStore(db, { record: recordChange });
    for (let n = 0; n < 4; n++) {
      await store.put(`d${n}`, { assetId: "D", quantity: n });
    }
    const relay = outboxRelay(db, bus, {
      logger: watchedLogger().logger,
      interval: 60_000,
    });
    await relay.start(new AbortController().signal);
    await relay.stop(new AbortController().signal);
    assert.equal(await outboxCount(), 0);
    await seen.until(4);
  });

  it("sets aside an event the bus refuses for good, and goes on", async () => {
    await db.exec("truncate positions, position_events");
    await using bus = createBus("memory://");
    const seen = await collect(bus);
    const picky = {
      publish: (...args: Parameters<Bus["publish"]>) =>
        (args[1] as PositionChanged).position?.assetId === "HUGE"
          ? Promise.reject(invalidInput("message too large"))
          : bus.publish(...args),
    } as unknown as Bus;
    const { logger, until } = watchedLogger();
    const relay = outboxRelay(db, picky, { logger });
    const store = databaseStore(db, { record: recordChange });
    await store.put("p", { assetId: "A", quantity: 1 });
    await store.put("p", { assetId: "HUGE", quantity: 2 });
    await store.put("p", { assetId: "A", quantity: 3 });
    await relay.start(new AbortController().signal);
    await seen.until(2);
    await relay.stop(new AbortController().signal);
    assert.deepEqual(seen.events.map((e) => e.position?.quantity), [1, 3]);
    await until((r) => r.message === "outbox event set aside");
    const aside = await db.query<{ error: string }>(
      "select error from position_events where failed_at is not null",
    );
    assert.deepEqual(aside.map((r) => r.error), ["message too large"]);
    await assert.rejects(relay.healthCheck(), /1 events set aside/);
  });

  it("never publishes a position's event before an earlier one was acknowledged", async () => {
    await db.exec("truncate positions, position_events");
    await using bus = createBus("memory://");
    const seen = await collect(bus);
    let failFirst = true;
    const flaky = {
      publish: (...args: Parameters<Bus["publish"]>) => {
        if (
          failFirst && (args[1] as PositionChanged).position?.quantity === 1
        ) {
          failFirst = false;
          return Promise.reject(temporary("ack lost"));
        }
        return bus.publish(...args);
      },
    } as unknown as Bus;
    const { logger, until } = watchedLogger();
    const relay = outboxRelay(db, flaky, { logger, interval: 10 });
    const store = databaseStore(db, { record: recordChange });
    await store.put("q", { assetId: "Q", quantity: 1 });
    await store.put("q", { assetId: "Q", quantity: 2 });
    await store.put("r", { assetId: "R", quantity: 7 });
    await relay.start(new AbortController().signal);
    await until((r) => r.message === "outbox relay failed");
    await seen.until(3);
    await relay.stop(new AbortController().signal);
    assert.deepEqual(
      seen.events.filter((e) => e.position?.id === "q").map((e) =>
        e.position?.quantity
      ),
      [1, 2],
    );
    assert.equal(await outboxCount(), 0);
  });

  it("abandons the publishes in flight when the grace period ends", async () => {
    await db.exec("truncate positions, position_events");
    let started!: () => void;
    const inFlight = new Promise<void>((resolve) => started = resolve);
    const stuck = {
      publish: (
        _s: unknown,
        _v: unknown,
        { signal }: { signal: AbortSignal },
      ) =>
        new Promise((_, reject) => {
          started();
          signal.addEventListener("abort", () => reject(signal.reason));
        }),
    } as unknown as Bus;
    const relay = outboxRelay(db, stuck, { logger: watchedLogger().logger });
    await databaseStore(db, { record: recordChange }).put("t", {
      assetId: "T",
      quantity: 1,
    });
    await relay.start(new AbortController().signal);
    await inFlight;
    const grace = new AbortController();
    const stopped = relay.stop(grace.signal);
    grace.abort(new Error("grace period over"));
    await stopped;
    assert.equal(await outboxCount(), 1, "kept for the next start");
  });

  it("the subscriber drops the cached position of each event, and logs it", async () => {
    await using bus = createBus("memory://");
    await using cache = createCache("memory://");
    const Value = json<{ quantity: number }>(undefined, { name: "position" });
    await cache.set(positionKey(cache, "i1"), Value, { quantity: 1 }, {
      ttl: 60_000,
    });
    const { logger, until } = watchedLogger();
    const invalidator = cacheInvalidator(bus, cache, logger);
    await invalidator.start(new AbortController().signal);
    const event = await recordChange(db, "i1", { assetId: "I", quantity: 2 });
    await bus.publish(PositionChangedSchema, event, {
      key: "i1",
      id: event.eventId,
    });
    await until((r) =>
      r.message === "position event handled" && r.event_id === event.eventId &&
      r.position_id === "i1" && r.invalidated === true
    );
    await assert.rejects(
      cache.get(positionKey(cache, "i1"), Value),
      (error: Error & { kind?: string }) => error.kind === "not_found",
    );
    await invalidator.stop(new AbortController().signal);
  });
});
