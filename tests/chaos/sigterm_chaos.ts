// Chaos (issue 20), scenario 4: SIGTERM under load. Readiness fails, every
// request the service handled gets a complete response (2xx, or a 503
// refusal while it drains; a request the listener never read may be refused
// or reset as it closes, and must have written nothing), the relay and the
// subscriber stop (the message in flight is
// handled and committed), and the process exits 0 within the grace period.
// Then the service starts again on the same PostgreSQL and NATS: every
// acknowledged write's event is handled once over the two runs, nothing that
// the first run handled is delivered again, and the outbox is empty.
// On Deno and Bun, sharing one private PostgreSQL and one private NATS.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createDatabase } from "@cqi/database";
import { privateServer } from "../../database/testdata/postgres.ts";
import {
  privateNats,
  requireNatsInstalled,
} from "../../bus/testdata/nats_server.ts";
import {
  assertNoHang,
  handledEvents,
  lazyServer,
  ready,
  readyWithin,
  report,
  requirePostgresInstalled,
  RUNTIMES,
  slowest,
  startLoad,
  startService,
  tally,
  waitFor,
  within,
} from "./_harness.ts";

const GRACE_MS = 5_000;
const DELAY_MS = 500;

const pgServer = lazyServer(privateServer);
const natsServer = lazyServer(privateNats);

describe("chaos: SIGTERM under load, then a restart", () => {
  for (const rt of RUNTIMES) {
    it(`on ${rt}`, { timeout: 90_000 }, async (t) => {
      if (!await requirePostgresInstalled(t)) return;
      if (!await requireNatsInstalled(t)) return;
      const [pg, nats] = await Promise.all([pgServer(), natsServer()]);
      const env = {
        CQI_DATABASE_URL: pg.url,
        CQI_BUS_URL: nats.url,
        CQI_SERVER_SHUTDOWN_TIMEOUT: `${GRACE_MS}ms`,
        CQI_SERVER_SHUTDOWN_DELAY: `${DELAY_MS}ms`,
      };
      const started = performance.now();
      const first = await startService(rt, env);
      let second: Awaited<ReturnType<typeof startService>> | undefined;
      let passed = false;
      try {
        // each worker goes on until its connection is refused (the
        // listener closed) or the process is gone
        const load = startLoad(first.base, {
          tag: `term-${rt}`,
          pauseMs: 5,
          stopOn: (o) => o.kind !== "response",
        });
        await load.until(
          (o) => o.op === "PUT" && o.status === 200,
          40,
          20_000,
          "40 writes before the signal",
        );
        await waitFor(
          () => handledEvents(first).length >= 10,
          15_000,
          "10 events handled before the signal",
        );

        load.phase = "signalled";
        const signalledAt = performance.now();
        first.child.signal("SIGTERM");
        // readiness fails while the server still serves (the shutdown delay)
        const unready = await readyWithin(
          first.base,
          (r) => r.status === 503,
          DELAY_MS + 2_000,
        );
        const code = await within(
          first.child.exited,
          GRACE_MS + 10_000,
          "exit",
        );
        const exitMs = Math.round(performance.now() - signalledAt);
        await within(load.done, 15_000, "the load after the exit");
        const outcomes = load.outcomes;
        const handledFirst = handledEvents(first);
        const records = first.records();
        // A reset is a defect if the service handled the request (its access
        // line, found by request id, is there): the response was cut. TCP
        // resets what the listener never read as it closes (connections
        // still in the kernel's backlog, or accepted with the request
        // unread); a client that keeps sending as the listener closes gets
        // some of those. Their PUTs must have written nothing (checked below).
        const handledRequests = new Set(
          records.filter((r) => r.message === "request completed")
            .map((r) => r.request_id),
        );
        const wasHandled = (o: (typeof outcomes)[number]) =>
          handledRequests.has(o.requestId);
        const unread = outcomes.filter((o) =>
          o.kind === "reset" && !wasHandled(o)
        );
        const sent = (o: (typeof outcomes)[number]) =>
          `${o.op} sent ${Math.round(o.at - signalledAt)} ms`;
        // the match itself works: every 200 is a handled request
        const unmatched = outcomes.filter((o) =>
          o.status === 200 && !wasHandled(o)
        );

        // the same backends again: the rest of the events, nothing twice
        second = await startService(rt, env);
        const acked = [...load.acked.keys()];
        const handledIds = () =>
          new Set(
            [...handledFirst, ...handledEvents(second!)].map((e) =>
              e.positionId
            ),
          );
        await waitFor(
          () => acked.every((id) => handledIds().has(id)),
          20_000,
          "every acknowledged write's event handled over the two runs",
          50,
        ).catch(() => {}); // counted and asserted below
        await using db = createDatabase(pg.url, { maxConnections: 1 });
        await waitFor(
          async () =>
            (await db.queryRow<{ n: number }>(
              "select count(*)::int as n from position_events",
            )).n === 0,
          10_000,
          "the outbox drained",
          100,
        ).catch(() => {});
        const outboxLeft = (await db.queryRow<{ n: number }>(
          "select count(*)::int as n from position_events",
        )).n;
        const unreadWritten = (await db.query<{ id: string }>(
          "select id from positions where id = any($1)",
          [unread.filter((o) => o.op === "PUT").map((o) => o.id)],
        )).map((r) => r.id);
        const readySecond = await ready(second.base);
        second.child.signal("SIGTERM");
        const secondCode = await within(second.child.exited, 15_000, "exit 2");
        const handledSecond = handledEvents(second);

        const firstIds = new Set(handledFirst.map((e) => e.eventId));
        const redelivered = handledSecond.filter((e) =>
          firstIds.has(e.eventId)
        );
        const all = [...handledFirst, ...handledSecond];
        const seen = new Map<string, number>();
        for (const e of all) {
          seen.set(e.eventId, (seen.get(e.eventId) ?? 0) + 1);
        }
        const duplicates = [...seen.values()].filter((n) => n > 1).length;
        const handled = handledIds();
        const lost = acked.filter((id) => !handled.has(id));
        const accepted = outcomes.filter((o) => o.kind === "response");
        const broken = outcomes.filter((o) =>
          (o.kind === "reset" && wasHandled(o)) || o.kind === "truncated" ||
          o.kind === "timeout" || o.kind === "error"
        );
        const refusedEarly = outcomes.filter((o) =>
          o.kind === "refused" && o.phase !== "signalled"
        );
        const stopped = records.find((r) => r.message === "stopped");

        report("SIGTERM under load", rt, {
          seconds: Math.round((performance.now() - started) / 100) / 10,
          requests: outcomes.length,
          counts: tally(outcomes),
          completeResponses: accepted.length,
          broken: broken.map((o) => `${o.op} ${o.kind} ${o.error}`),
          resetUnread: unread.map(sent),
          slowestMs: slowest(outcomes),
          readyAfterSignal: unready.status,
          exitMs,
          exit: code,
          stoppedClean: stopped?.clean,
          writesAcked: acked.length,
          eventsHandled: {
            first: handledFirst.length,
            second: handledSecond.length,
          },
          eventsLost: lost.length,
          duplicates,
          redelivered: redelivered.length,
          outboxLeft,
          readyOnRestart: readySecond.status,
          exit2: secondCode,
        });

        assertNoHang(outcomes);
        assert.deepEqual(
          unmatched.map((o) => `${o.op} ${o.requestId}`),
          [],
          "200 responses without an access line of their request id",
        );
        assert.deepEqual(
          broken.map((o) => `${o.op} ${o.phase} ${o.kind} ${o.error}`),
          [],
          "no connection reset or truncated response",
        );
        assert.deepEqual(refusedEarly, [], "refused before the signal");
        assert.deepEqual(
          unread.filter((o) => o.phase !== "signalled"),
          [],
          "reset before the signal",
        );
        assert.deepEqual(unreadWritten, [], "a reset PUT that wrote anyway");
        // and only as the listener closed, never while it served (the delay)
        assert.deepEqual(
          unread.filter((o) => o.at < signalledAt + DELAY_MS - 100).map(sent),
          [],
          "reset during the drain delay",
        );
        for (const o of accepted) {
          assert.ok(
            o.status === 200 || (o.phase === "signalled" && o.status === 503),
            `${o.op} ${o.phase} ${o.status} ${JSON.stringify(o.body)}`,
          );
        }
        assert.equal(unready.status, 503, "readiness fails after SIGTERM");
        assert.equal(code, 0, "exit code");
        assert.equal(stopped?.clean, true, "the stopped line says clean");
        assert.ok(
          exitMs <= DELAY_MS + GRACE_MS + 1_000,
          `exited ${exitMs} ms after SIGTERM (grace ${DELAY_MS} + ${GRACE_MS})`,
        );
        assert.deepEqual(lost, [], "acknowledged writes whose event was lost");
        assert.deepEqual(
          redelivered.map((e) => e.positionId),
          [],
          "events handled by the first run came again",
        );
        assert.equal(outboxLeft, 0, "the outbox drained");
        assert.equal(secondCode, 0, "exit code of the second run");
        passed = true;
      } finally {
        if (!passed) {
          first.dump();
          second?.dump();
        }
        first.kill();
        second?.kill();
      }
    });
  }
});
