import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { Bus } from "@cqi/bus";
import type { Queryable } from "@cqi/database";
import type { Logger } from "@cqi/logging";
import type { Service } from "@cqi/service";
import {
  type PositionChanged,
  PositionChangedSchema,
} from "../../proto/gen/cqc/quickstart/v1/positions_pb.ts";
import type { Position } from "./store.ts";

/**
 * Writes the `PositionChanged` of a put into the outbox, inside the put's
 * transaction `tx`: the event exists exactly when the position was stored.
 */
export async function recordChange(
  tx: Queryable,
  id: string,
  { assetId, quantity }: Position,
): Promise<PositionChanged> {
  const event = create(PositionChangedSchema, {
    eventId: crypto.randomUUID(),
    position: { id, assetId, quantity },
    occurredAt: timestampNow(),
  });
  await tx.exec(
    "insert into position_events (event_id, payload) values ($1, $2)",
    [event.eventId, toBinary(PositionChangedSchema, event)],
  );
  return event;
}

/** Options of {@linkcode outboxRelay}. */
export interface RelayOptions {
  logger: Logger;
  /** Events read and published at once. Default 500. */
  batch?: number;
  /** Time between reads when nothing woke the relay. Default 1 s. */
  interval?: number;
}

/** The relay: a service, and `wake()` for a put that just committed. */
export interface Relay extends Service {
  /** Reads the outbox now instead of at the next interval. */
  wake(): void;
}

/**
 * Publishes the outbox's events in the order they were written, keyed by
 * position, and deletes each batch once the bus acknowledged all of it. A bus
 * or database outage delays events (retried with backoff up to 30 s apart),
 * never loses one. At least once: a batch whose delete failed, or that
 * another instance's relay read too, is published again, with the same event
 * id (NATS stores it once within its duplicate window; consumers must be
 * idempotent). `stop` publishes what is left, until the grace period ends;
 * the rest waits in the table for the next start.
 */
export function outboxRelay(
  db: Queryable,
  bus: Bus,
  { logger, batch = 500, interval = 1_000 }: RelayOptions,
): Relay {
  let woken = Promise.withResolvers<void>();
  let stopping: AbortSignal | undefined;
  let loop: Promise<void> | undefined;

  async function flush(): Promise<number> {
    const rows = await db.query<{ seq: string; payload: Uint8Array }>(
      "select seq, payload from position_events order by seq limit $1",
      [batch],
    );
    await Promise.all(rows.map(({ payload }) => {
      const event = fromBinary(PositionChangedSchema, payload);
      return bus.publish(PositionChangedSchema, event, {
        key: event.position?.id,
        id: event.eventId,
        signal: stopping, // at the end of the grace period, give up
      });
    }));
    // by seq, not up to the last one: a put that committed later with a
    // smaller seq is still unpublished
    if (rows.length > 0) {
      await db.exec(
        "delete from position_events where seq = any($1::bigint[])",
        [rows.map((row) => row.seq)],
      );
    }
    return rows.length;
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (true) {
      let sent = 0;
      try {
        sent = await flush();
        if (failures > 0) logger.info("outbox relay recovered", { failures });
        failures = 0;
      } catch (error) {
        if (failures++ === 0) logger.warn("outbox relay failed", { error });
      }
      if (sent === batch) continue; // more are waiting
      if (stopping !== undefined && (failures === 0 || stopping.aborted)) {
        return; // drained, or the grace period is over
      }
      const delay = Math.min(interval * 2 ** failures, 30_000);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        woken.promise,
        new Promise((resolve) => timer = setTimeout(resolve, delay)),
      ]);
      clearTimeout(timer);
      woken = Promise.withResolvers();
    }
  }

  return {
    name: "outbox-relay",
    start() {
      loop = run();
      return Promise.resolve();
    },
    async stop(signal) {
      stopping = signal;
      signal.addEventListener("abort", () => woken.resolve(), { once: true });
      woken.resolve();
      await loop;
    },
    wake: () => woken.resolve(),
  };
}
