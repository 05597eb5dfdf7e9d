// A server of the test's own is stopped and started under a steady load:
// during the outage calls fail fast as `temporary`; after it the same pool
// serves again, with no restart of anything but the server.
import assert from "node:assert/strict";
import { it } from "node:test";
import { createDatabase, DatabaseError } from "@cqi/database";
import { privateServer, requirePostgres } from "./testdata/postgres.ts";
import { waitFor } from "../tests/_util.ts";

it(
  "the pool rides out a server restart under load",
  { timeout: 60_000 },
  async (t) => {
    if (!await requirePostgres(t)) return; // the binaries come with the server
    await using server = await privateServer();
    await using db = createDatabase(server.url, {
      maxConnections: 4,
      connectionTimeout: 2_000,
    });
    await db.exec(
      "create table orders (id serial primary key, at timestamptz default now())",
    );

    type Outcome = { phase: string; ok: boolean; ms: number; error?: unknown };
    const outcomes: Outcome[] = [];
    let phase = "before";
    let stop = false;
    const firstAfter = Promise.withResolvers<number>();
    const restartedAt = { ms: 0 };
    const worker = async () => {
      while (!stop) {
        const started = performance.now();
        try {
          await db.exec("insert into orders default values");
          outcomes.push({ phase, ok: true, ms: performance.now() - started });
          if (phase === "after") firstAfter.resolve(performance.now());
        } catch (error) {
          outcomes.push({
            phase,
            ok: false,
            ms: performance.now() - started,
            error,
          });
          // a failed call is retried by a real caller after a pause
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await waitFor(
      () => outcomes.filter((o) => o.ok).length >= 20,
      15_000,
      "20 successes before the outage",
      10,
    );
    phase = "outage";
    await server.stop();
    await waitFor(
      () => outcomes.filter((o) => o.phase === "outage").length >= 20,
      15_000,
      "20 calls during the outage",
      10,
    );
    phase = "after";
    await server.start();
    restartedAt.ms = performance.now();
    const recovered = await Promise.race([
      firstAfter.promise,
      new Promise<number>((_, reject) =>
        setTimeout(
          () => reject(new Error("no success within 10 s of the restart")),
          10_000,
        )
      ),
    ]);
    await waitFor(
      () => outcomes.filter((o) => o.phase === "after" && o.ok).length >= 20,
      15_000,
      "20 successes after the restart",
      10,
    );
    stop = true;
    await Promise.all(workers);

    const during = outcomes.filter((o) => o.phase === "outage");
    const failed = during.filter((o) => !o.ok);
    assert.ok(failed.length > 0, "calls failed during the outage");
    for (const o of outcomes.filter((o) => !o.ok)) {
      assert.ok(o.error instanceof DatabaseError, String(o.error));
      assert.equal(o.error.kind, "temporary", String(o.error.cause));
    }
    const slowest = Math.max(...failed.map((o) => o.ms));
    assert.ok(slowest < 1_000, `a failing call took ${slowest} ms`);
    const recovery = recovered - restartedAt.ms;
    assert.ok(
      recovery < 3_000,
      `first success ${recovery} ms after the restart`,
    );
    const { count } = await db.queryRow<{ count: string }>(
      "select count(*) from orders",
    );
    // Every acknowledged insert is there; a failed one may have committed just
    // before its connection went (its answer lost), never more than those.
    const acknowledged = outcomes.filter((o) => o.ok).length;
    assert.ok(Number(count) >= acknowledged, `${count} < ${acknowledged}`);
    assert.ok(Number(count) <= acknowledged + failed.length);
  },
);
