// Chaos (issue 20), scenario 2: the example service's Redis is first made
// silent (SIGSTOP: readiness says degraded within a probe's 1 s timeout),
// then killed and started again under a steady, read-heavy load. Reads keep working from the
// database (no 5xx at all), readiness says degraded (200, the cache check
// failing), and the cache comes back without a restart of the service (cache
// hits grow again, readiness says the cache is ok). On Deno and Bun, sharing
// one private PostgreSQL and one private Redis.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { privateServer } from "../../database/testdata/postgres.ts";
import {
  privateRedis,
  requireRedisServer,
} from "../../cache/testdata/redis_server.ts";
import {
  assertNoHang,
  failures,
  lazyServer,
  metric,
  type Outcome,
  ready,
  readyUntil,
  report,
  requirePostgresInstalled,
  RUNTIMES,
  send,
  slowest,
  startLoad,
  startService,
  tally,
  waitFor,
  within,
} from "./_harness.ts";

const OUTAGE_MS = 2_000;
const HITS = /^quickstart_cache_requests_total\{[^}]*result="hit"/;

const pgServer = lazyServer(privateServer);
const redisServer = lazyServer(privateRedis);

describe("chaos: Redis killed and started under load", () => {
  for (const rt of RUNTIMES) {
    it(`on ${rt}`, { timeout: 60_000 }, async (t) => {
      if (!await requirePostgresInstalled(t)) return;
      if (!await requireRedisServer(t)) return;
      const [pg, redis] = await Promise.all([pgServer(), redisServer()]);
      const started = performance.now();
      const svc = await startService(rt, {
        CQI_DATABASE_URL: pg.url,
        CQI_CACHE_URL: redis.url,
      });
      let passed = false;
      try {
        // positions to read, put before the load
        const reads = Array.from({ length: 20 }, (_, i) => `r-${rt}-${i}`);
        const seeded = new Map<string, unknown>();
        for (const [i, id] of reads.entries()) {
          const value = { assetId: "SEED", quantity: i };
          const put = await send(svc.base, "PUT", id, "seed", value);
          assert.equal(put.status, 200, JSON.stringify(put));
          seeded.set(id, value);
        }
        // Redis silent (SIGSTOP): readiness says degraded within a probe's
        // 1 s timeout (the cache check's own 500 ms) instead of holding it.
        redis.pause();
        const probeMs: number[] = [];
        let silent: Awaited<ReturnType<typeof ready>> | undefined;
        try {
          await waitFor(
            async () => {
              const sent = performance.now();
              silent = await ready(svc.base);
              probeMs.push(Math.round(performance.now() - sent));
              return (silent.body.checks as Record<string, string>)?.cache !==
                "ok";
            },
            5_000,
            "/health/ready reporting the silent cache",
            100,
          );
        } finally {
          redis.resume();
        }
        await readyUntil(
          svc.base,
          (r) => (r.body.checks as Record<string, string>)?.cache === "ok",
          10_000,
          "/health/ready reporting the cache ok after SIGCONT",
        );

        const load = startLoad(svc.base, {
          tag: `redis-${rt}`,
          reads,
          getsPerPut: 3,
        });
        const ok = (phase: string) => (o: Outcome) =>
          o.phase === phase && o.op === "GET" && o.status === 200;
        await load.until(ok("before"), 40, 20_000, "40 reads before");
        const hitsBefore = await metric(svc.base, HITS);

        // the outage
        load.phase = "outage";
        const down = performance.now();
        await redis.kill();
        const degraded = await readyUntil(
          svc.base,
          (r) => (r.body.checks as Record<string, string>)?.cache !== "ok",
          5_000,
          "/health/ready reporting the cache failing",
        );
        await load.until(ok("outage"), 30, 15_000, "30 reads during outage");
        await waitFor(
          () => performance.now() - down >= OUTAGE_MS,
          OUTAGE_MS + 1_000,
          "the outage's length",
        );

        // the recovery, without restarting the service
        load.phase = "recovery";
        await redis.start();
        const upAt = performance.now();
        const cacheOk = await readyUntil(
          svc.base,
          (r) => (r.body.checks as Record<string, string>)?.cache === "ok",
          15_000,
          "/health/ready reporting the cache ok again",
        );
        const recoveredMs = Math.round(performance.now() - upAt);
        load.phase = "after";
        const hitsAtRecovery = await metric(svc.base, HITS);
        await waitFor(
          async () => await metric(svc.base, HITS) >= hitsAtRecovery + 20,
          15_000,
          "20 more cache hits after Redis came back",
          100,
        );
        const hitsAfter = await metric(svc.base, HITS);
        await load.until(ok("after"), 20, 15_000, "20 reads after");
        const outcomes = await load.stop();

        svc.child.signal("SIGTERM");
        const code = await within(svc.child.exited, 15_000, "the exit");

        const fivexx = outcomes.filter((o) => (o.status ?? 0) >= 500);
        report("redis kill/start", rt, {
          seconds: Math.round((performance.now() - started) / 100) / 10,
          requests: outcomes.length,
          counts: tally(outcomes),
          failures: failures(outcomes).length,
          fivexx: fivexx.length,
          firstFivexx: fivexx[0] &&
            `${fivexx[0].op} ${fivexx[0].status} ${
              JSON.stringify(fivexx[0].body)
            }`,
          slowestMs: slowest(outcomes),
          readySilent: `${silent!.status} ${JSON.stringify(silent!.body)}`,
          silentProbeMs: probeMs,
          readyDuring: `${degraded.status} ${JSON.stringify(degraded.body)}`,
          readyAfter: `${cacheOk.status} ${JSON.stringify(cacheOk.body)}`,
          recoveredMs,
          hits: {
            before: hitsBefore,
            atRecovery: hitsAtRecovery,
            after: hitsAfter,
          },
          writesAcked: load.acked.size,
          exit: code,
        });

        assertNoHang(outcomes);
        assert.deepEqual(
          failures(outcomes).map((o) => `${o.op} ${o.phase} ${o.error}`),
          [],
          "every request got a complete response",
        );
        assert.deepEqual(
          fivexx.slice(0, 5).map((o) =>
            `${o.op} ${o.phase} ${o.status} ${JSON.stringify(o.body)}`
          ),
          [],
          "no 5xx while Redis is away",
        );
        for (const o of outcomes) {
          assert.equal(o.status, 200, `${o.op} ${o.phase} ${o.status}`);
          if (o.op === "GET") assert.deepEqual(o.body, seeded.get(o.id));
        }
        assert.equal(silent!.status, 200, "readiness with Redis silent");
        assert.equal(silent!.body.status, "degraded");
        assert.ok(
          Math.max(...probeMs) < 1_000,
          `readiness probes with Redis silent took ${probeMs} ms`,
        );
        assert.equal(degraded.status, 200, "readiness stays 200");
        assert.equal(degraded.body.status, "degraded");
        assert.equal(cacheOk.status, 200);
        assert.equal(cacheOk.body.status, "healthy");
        assert.ok(hitsAfter > hitsAtRecovery, "cache hits after recovery");
        assert.equal(code, 0, "exit code after SIGTERM");
        passed = true;
      } finally {
        if (!passed) svc.dump();
        svc.kill();
      }
    });
  }
});
