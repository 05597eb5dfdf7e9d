// Chaos (issue 20), scenario 1: the example service's PostgreSQL server is
// stopped and started under a steady load. During the outage requests fail
// fast with 503 UNAVAILABLE (none hangs; GETs may be served stale from the
// cache), readiness fails and then recovers, and every acknowledged write is
// in the database afterwards. Run on Deno and Bun, one private server.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createDatabase } from "@cqi/database";
import { privateServer } from "../../database/testdata/postgres.ts";
import {
  assertNoHang,
  failures,
  hasCode,
  lazyServer,
  type Outcome,
  readyUntil,
  report,
  REQUEST_TIMEOUT_MS,
  requirePostgresInstalled,
  RUNTIMES,
  slowest,
  startLoad,
  startService,
  tally,
  waitFor,
  within,
} from "./_harness.ts";

const OUTAGE_MS = 2_000;

const server = lazyServer(privateServer);

describe("chaos: PostgreSQL stopped and started under load", () => {
  for (const rt of RUNTIMES) {
    it(`on ${rt}`, { timeout: 60_000 }, async (t) => {
      if (!await requirePostgresInstalled(t)) return;
      const pg = await server();
      const started = performance.now();
      const svc = await startService(rt, { CQI_DATABASE_URL: pg.url });
      let passed = false;
      try {
        const load = startLoad(svc.base, { tag: `pg-${rt}` });
        const ok = (phase: string) => (o: Outcome) =>
          o.phase === phase && o.op === "PUT" && o.status === 200;
        await load.until(ok("before"), 20, 20_000, "20 writes before");

        // the outage
        load.phase = "outage";
        const down = performance.now();
        await pg.stop();
        const unready = await readyUntil(
          svc.base,
          (r) => r.status === 503,
          5_000,
          "/health/ready 503 while the database is down",
        );
        await load.until(
          (o) => o.phase === "outage" && o.op === "PUT" && o.status === 503,
          10,
          10_000,
          "10 PUTs refused during the outage",
        );
        await waitFor(
          () => performance.now() - down >= OUTAGE_MS,
          OUTAGE_MS + 1_000,
          "the outage's length",
        );

        // the recovery
        load.phase = "recovery";
        await pg.start();
        const upAt = performance.now();
        const readyAgain = await readyUntil(
          svc.base,
          (r) => r.status === 200,
          15_000,
          "/health/ready 200 after the restart",
        );
        const recoveredMs = Math.round(performance.now() - upAt);
        load.phase = "after";
        await load.until(ok("after"), 20, 20_000, "20 writes after");
        const outcomes = await load.stop();

        // the service still stops cleanly
        svc.child.signal("SIGTERM");
        const code = await within(svc.child.exited, 15_000, "the exit");

        // every acknowledged write is in the database
        await using db = createDatabase(pg.url, { maxConnections: 1 });
        const ids = [...load.acked.keys()];
        const rows = await db.query<{ id: string; quantity: string }>(
          "select id, quantity from positions where id = any($1)",
          [ids],
        );
        const stored = new Map(rows.map((r) => [r.id, Number(r.quantity)]));
        const lost = ids.filter((id) =>
          stored.get(id) !== (load.acked.get(id) as { quantity: number })
            .quantity
        );

        const puts = outcomes.filter((o) => o.op === "PUT");
        const gets = outcomes.filter((o) => o.op === "GET");
        const outage = outcomes.filter((o) => o.phase === "outage");
        report("postgres stop/start", rt, {
          seconds: Math.round((performance.now() - started) / 100) / 10,
          requests: outcomes.length,
          puts: puts.length,
          gets: gets.length,
          counts: tally(outcomes),
          failures: failures(outcomes).length,
          slowestMs: slowest(outcomes),
          slowestOutageMs: slowest(outage),
          readyDuring: unready.status,
          readyAfter: readyAgain.status,
          recoveredMs,
          writesChecked: ids.length,
          writesLost: lost.length,
          exit: code,
        });

        assertNoHang(outcomes);
        assert.deepEqual(
          failures(outcomes).map((o) => `${o.op} ${o.phase} ${o.error}`),
          [],
          "every request got a complete response",
        );
        for (const o of puts) {
          assert.ok(
            o.status === 200 || (o.status === 503 && hasCode(o, "UNAVAILABLE")),
            `PUT ${o.phase}: ${o.status} ${JSON.stringify(o.body)}`,
          );
        }
        for (const o of gets) {
          // 200, stale from the cache or not; 503 when it had to load
          assert.ok(
            o.status === 200 || (o.status === 503 && hasCode(o, "UNAVAILABLE")),
            `GET ${o.phase}: ${o.status} ${JSON.stringify(o.body)}`,
          );
          if (o.status === 200 && load.acked.has(o.id)) {
            assert.deepEqual(o.body, load.acked.get(o.id));
          }
        }
        const refusedOutage = outage.filter((o) => o.status === 503);
        assert.ok(
          Math.max(0, ...refusedOutage.map((o) => o.ms)) < REQUEST_TIMEOUT_MS,
          "503s came fast",
        );
        assert.equal(unready.status, 503);
        assert.equal(readyAgain.status, 200);
        assert.deepEqual(lost, [], "acknowledged writes missing afterwards");
        assert.equal(code, 0, "exit code after SIGTERM");
        passed = true;
      } finally {
        if (!passed) svc.dump();
        svc.kill();
      }
    });
  }
});
