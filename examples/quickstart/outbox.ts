import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { Bus } from "@cqi/bus";
import { isInvalidInput, isPermanent, permanent, temporary } from "@cqi/errors";
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
  /** Events read at once. Default 500. */
  batch?: number;
  /** Time between reads when nothing woke the relay. Default 1 s. */
  interval?: number;
}

/** The relay: a service, `wake()` for a put that committed, and a check. */
export interface Relay extends Service {
  /** Reads the outbox now instead of at the next interval (not while failing). */
  wake(): void;
  /**
   * Rejects while publishing fails, or while events are set aside: for a
   * non-critical readiness check (`degraded`).
   */
  healthCheck(signal?: AbortSignal): Promise<void>;
}

interface Row {
  seq: string;
  event: PositionChanged;
}

/**
 * Publishes the outbox's events, keyed by position: each position's events
 * in the order they were written, none before an earlier one of it was
 * acknowledged, positions side by side; then deletes what the bus
 * acknowledged. A bus or database outage delays events (retried 1 s, 2 s,
 * ... up to 30 s apart; puts do not wake it meanwhile), never loses one. An
 * event the bus refuses for good (`invalid_input`, `permanent`: too large,
 * say) is set aside (`failed_at`, logged as an error, and `healthCheck`
 * fails) so that it holds up nothing. At least once: a batch whose delete
 * failed, or that another instance's relay read too, is published again with
 * the same event id (NATS stores it once within its duplicate window;
 * consumers must be idempotent). `stop` publishes what is left until the
 * grace period ends, then abandons the publishes in flight; the rest waits in
 * the table for the next start.
 */
export function outboxRelay(
  db: Queryable,
  bus: Bus,
  { logger, batch = 500, interval = 1_000 }: RelayOptions,
): Relay {
  let woken = Promise.withResolvers<void>();
  let stopping: AbortSignal | undefined;
  const halt = new AbortController(); // the publishes in flight, at the end
  let loop: Promise<void> | undefined;
  let failures = 0;

  async function setAside(seq: string, error: unknown): Promise<void> {
    logger.error("outbox event set aside", { seq, error });
    await db.exec(
      "update position_events set failed_at = now(), error = $2 where seq = $1",
      [seq, String((error as Error)?.message).slice(0, 1_000)],
    );
  }

  async function publishChain(chain: Row[], sent: string[]): Promise<void> {
    for (const row of chain) {
      try {
        await bus.publish(PositionChangedSchema, row.event, {
          key: row.event.position?.id,
          id: row.event.eventId,
          signal: halt.signal,
        });
        sent.push(row.seq);
      } catch (error) {
        if (!isInvalidInput(error) && !isPermanent(error)) throw error;
        await setAside(row.seq, error); // and the chain goes on
      }
    }
  }

  async function flush(): Promise<number> {
    const rows = await db.query<{ seq: string; payload: Uint8Array }>(
      `select seq, payload from position_events where failed_at is null
       order by seq limit $1`,
      [batch],
    );
    const chains = new Map<string, Row[]>();
    for (const { seq, payload } of rows) {
      let event: PositionChanged;
      try {
        event = fromBinary(PositionChangedSchema, payload);
      } catch (error) {
        await setAside(seq, error);
        continue;
      }
      const key = event.position?.id ?? "";
      chains.get(key)?.push({ seq, event }) ??
        chains.set(key, [{ seq, event }]);
    }
    const sent: string[] = [];
    const outcomes = await Promise.allSettled(
      [...chains.values()].map((chain) => publishChain(chain, sent)),
    );
    // by seq, not up to the last one: a put that committed later with a
    // smaller seq is still unpublished
    if (sent.length > 0) {
      await db.exec(
        "delete from position_events where seq = any($1::bigint[])",
        [sent],
      );
    }
    const failed = outcomes.find((o) => o.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    return rows.length;
  }

  async function run(): Promise<void> {
    while (true) {
      let read = 0;
      try {
        read = await flush();
        if (failures > 0) logger.info("outbox relay recovered", { failures });
        failures = 0;
      } catch (error) {
        if (failures++ === 0) logger.warn("outbox relay failed", { error });
      }
      if (read === batch && failures === 0) continue; // more are waiting
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
      const end = () => {
        halt.abort(signal.reason);
        woken.resolve();
      };
      if (signal.aborted) end();
      else signal.addEventListener("abort", end, { once: true });
      woken.resolve();
      await loop;
    },
    wake() {
      if (failures === 0) woken.resolve();
    },
    async healthCheck(signal) {
      if (failures > 0) {
        throw temporary(`outbox: publishing failed ${failures} times in a row`);
      }
      const row = await db.queryRow<{ n: string }>(
        "select count(*) as n from position_events where failed_at is not null",
        [],
        { signal },
      );
      if (Number(row?.n) > 0) {
        throw permanent(`outbox: ${row?.n} events set aside (failed_at)`);
      }
    },
  };
}
