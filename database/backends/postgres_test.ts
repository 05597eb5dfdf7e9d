// What only a server shows: statements stopped on the server by a signal or
// a timeout, connections killed inside transactions under load, transactions
// that never share a connection, serialization retries, pool exhaustion,
// and a server that is not there.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createDatabase, type Database, DatabaseError } from "@cqi/database";
import { closedPort } from "../../tests/_util.ts";
import { POSTGRES_URL, requirePostgres } from "../testdata/postgres.ts";

const APP = `cqi-test-${crypto.randomUUID().slice(0, 8)}`;

describe("postgres backend", () => {
  let db: Database; // the database under test, connections named APP
  let admin: Database; // looks at and kills APP's connections
  let ready = false;
  const table = `cqi_pg_${crypto.randomUUID().slice(0, 8)}`;

  before(() => {
    db = createDatabase(POSTGRES_URL, {
      service: { name: APP },
      maxConnections: 6,
    });
    admin = createDatabase(POSTGRES_URL, { maxConnections: 2 });
  });

  after(async () => {
    if (ready) await admin.exec(`drop table if exists ${table}`);
    await db.close();
    await admin.close();
  });

  // The server-side state of APP's connections, other than idle ones.
  async function busy(): Promise<{ state: string; query: string }[]> {
    return await admin.query(
      `select state, query from pg_stat_activity
        where application_name = $1 and state <> 'idle'`,
      [APP],
    );
  }

  // Waits (polling the server, which has no event to await) until `ok`.
  async function until(ok: () => Promise<boolean>, what: string) {
    const deadline = Date.now() + 5_000;
    while (!await ok()) {
      if (Date.now() > deadline) assert.fail(`not within 5 s: ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it("names its connections after the service", async (t) => {
    if (!await requirePostgres(t)) return;
    ready = true;
    await db.exec(`create table ${table} (g int not null, n int not null)`);
    const rows = await admin.query(
      "select 1 from pg_stat_activity where application_name = $1",
      [APP],
    );
    assert.ok(rows.length >= 1);
  });

  it("an aborted statement stops on the server, and its connection is free", async (t) => {
    if (!await requirePostgres(t)) return;
    const controller = new AbortController();
    const started = performance.now();
    const sleeping = db.query("select pg_sleep(30)", [], {
      signal: controller.signal,
    });
    await until(
      async () => (await busy()).some((b) => b.query.includes("pg_sleep")),
      "the statement runs",
    );
    controller.abort(new Error("client went away"));
    const error = await sleeping.catch((e) => e);
    assert.ok(error instanceof DatabaseError);
    assert.equal(error.kind, "canceled");
    assert.ok(performance.now() - started < 5_000);
    await until(async () => (await busy()).length === 0, "the server is idle");
  });

  it("a statement past its timeout stops on the server", async (t) => {
    if (!await requirePostgres(t)) return;
    const started = performance.now();
    const error = await db.query("select pg_sleep(30)", [], { timeout: 200 })
      .catch((e) => e);
    const took = performance.now() - started;
    assert.ok(error instanceof DatabaseError);
    assert.equal(error.kind, "timeout");
    assert.match(error.message, /timed out after 200 ms/);
    assert.ok(took >= 190 && took < 3_000, `${took} ms`);
    await until(async () => (await busy()).length === 0, "the server is idle");
  });

  it("a transaction past its timeout is cancelled, rolled back and its connection returned", async (t) => {
    if (!await requirePostgres(t)) return;
    const tx = await db.begin({ timeout: 300 });
    await tx.exec(`insert into ${table} values (-1, 1)`);
    const error = await tx.query("select pg_sleep(30)").catch((e) => e);
    assert.ok(error instanceof DatabaseError);
    assert.equal(error.kind, "timeout");
    await assert.rejects(tx.commit(), DatabaseError);
    await until(
      async () => (await busy()).length === 0,
      "no connection is left in the transaction",
    );
    const rows = await db.query(`select 1 from ${table} where g = -1`);
    assert.equal(rows.length, 0);
    await until(
      () => Promise.resolve(db.stats().idle === db.stats().total),
      "every connection is idle",
    );
  });

  it(
    "connections killed inside transactions under load: no crash, no half transaction",
    { timeout: 60_000 },
    async (t) => {
      if (!await requirePostgres(t)) return;
      const failures: unknown[] = [];
      let committed = 0;
      let stop = false;
      let group = 0;
      const worker = async (explicit: boolean) => {
        while (!stop) {
          const g = ++group;
          try {
            if (explicit) {
              const tx = await db.begin();
              try {
                await tx.exec(`insert into ${table} values ($1, 1)`, [g]);
                await tx.query("select pg_sleep(0.005)");
                await tx.exec(`insert into ${table} values ($1, 2)`, [g]);
                await tx.commit();
              } catch (error) {
                await tx.rollback();
                throw error;
              }
            } else {
              await db.withTransaction(async (tx) => {
                await tx.exec(`insert into ${table} values ($1, 1)`, [g]);
                await tx.query("select pg_sleep(0.005)");
                await tx.exec(`insert into ${table} values ($1, 2)`, [g]);
              }, { retries: 0 });
            }
            committed++;
          } catch (error) {
            failures.push(error);
          }
        }
      };
      const workers = Array.from({ length: 8 }, (_, i) => worker(i % 2 === 0));
      let kills = 0;
      for (let round = 0; round < 40; round++) {
        const killed = await admin.query(
          `select pg_terminate_backend(pid) from pg_stat_activity
          where application_name = $1 and state like 'idle in transaction%' or
            (application_name = $1 and query like '%pg_sleep(0.005)%' and state = 'active')`,
          [APP],
        );
        kills += killed.length;
        await new Promise((r) => setTimeout(r, 25));
      }
      stop = true;
      await Promise.all(workers);
      assert.ok(kills > 0, "some connections were killed");
      assert.ok(failures.length > 0, "some transactions failed");
      assert.ok(committed > 0, "some transactions committed");
      for (const error of failures) {
        assert.ok(error instanceof DatabaseError, String(error));
        assert.equal(error.kind, "temporary", String(error.cause));
      }
      const halves = await db.query(
        `select g, count(*) from ${table} where g > 0 group by g having count(*) <> 2`,
      );
      assert.deepEqual(halves, [], "a transaction was half applied");
      const whole = await db.queryRow<{ n: string }>(
        `select count(distinct g) as n from ${table} where g > 0`,
      );
      assert.equal(Number(whole.n), committed);
      await db.check(AbortSignal.timeout(5_000)); // and the pool serves again
    },
  );

  it("concurrent transactions never share a connection", async (t) => {
    if (!await requirePostgres(t)) return;
    const open = new Set<number>();
    const txids = new Set<string>();
    await Promise.all(
      Array.from({ length: 18 }, () =>
        db.withTransaction(async (tx) => {
          const { pid, txid } = await tx.queryRow<
            { pid: number; txid: string }
          >(
            "select pg_backend_pid() as pid, txid_current()::text as txid",
          );
          assert.ok(!open.has(pid), `connection ${pid} is in two transactions`);
          open.add(pid);
          txids.add(txid);
          await tx.query("select pg_sleep(0.01)");
          const again = await tx.queryRow<{ pid: number }>(
            "select pg_backend_pid() as pid",
          );
          assert.equal(again.pid, pid);
          open.delete(pid);
        })),
    );
    assert.equal(txids.size, 18);
  });

  it("withTransaction retries a serialization failure; without retries it is a conflict", async (t) => {
    if (!await requirePostgres(t)) return;
    const ledger = `${table}_ledger`;
    await db.exec(`create table ${ledger} (account text, amount int)`);
    try {
      // Write skew: each reads the sum, then both insert. Under
      // serializable one of the two must fail and run again.
      const race = async (retries: number) => {
        let attempts = 0;
        const bothRead = barrier(2);
        const results = await Promise.allSettled(
          ["a", "b"].map((account) =>
            db.withTransaction(async (tx) => {
              attempts++;
              const { sum } = await tx.queryRow<{ sum: number }>(
                `select coalesce(sum(amount), 0)::int as sum from ${ledger}`,
              );
              await bothRead();
              await tx.exec(`insert into ${ledger} values ($1, $2)`, [
                account,
                sum + 1,
              ]);
            }, { isolation: "serializable", retries })
          ),
        );
        return { attempts, results };
      };
      const retried = await race(3);
      assert.deepEqual(retried.results.map((r) => r.status), [
        "fulfilled",
        "fulfilled",
      ]);
      assert.equal(retried.attempts, 3);
      await db.exec(`delete from ${ledger}`);
      const once = await race(0);
      const rejected = once.results.filter((r) => r.status === "rejected");
      assert.equal(rejected.length, 1);
      const error = (rejected[0] as PromiseRejectedResult).reason;
      assert.ok(error instanceof DatabaseError);
      assert.equal(error.kind, "conflict");
      assert.equal(error.sqlState, "40001");
    } finally {
      await db.exec(`drop table ${ledger}`);
    }
  });

  it("check reports an exhausted pool as temporary", async (t) => {
    if (!await requirePostgres(t)) return;
    const small = createDatabase(POSTGRES_URL, { maxConnections: 1 });
    try {
      const tx = await small.begin();
      const error = await small.check(AbortSignal.timeout(200)).catch((e) => e);
      assert.ok(error instanceof DatabaseError);
      assert.equal(error.kind, "temporary");
      assert.match(String(error.cause), /1 of 1 connections busy/);
      await tx.rollback();
      await small.check(AbortSignal.timeout(5_000));
    } finally {
      await small.close();
    }
  });

  it("a server that is not there fails fast as temporary", async () => {
    const port = await closedPort();
    await using missing = createDatabase(
      `postgres://postgres@127.0.0.1:${port}/test`,
    );
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const error = await missing.query("select 1").catch((e) => e);
      assert.ok(error instanceof DatabaseError);
      assert.equal(error.kind, "temporary");
      assert.ok(performance.now() - started < 1_000);
      assert.match(String(error.cause), /ECONNREFUSED/);
    }
    await assert.rejects(
      missing.check(),
      (e) => e instanceof DatabaseError && e.kind === "temporary",
    );
  });
});

/** Resolves every caller once `n` have called (later calls at once). */
function barrier(n: number): () => Promise<void> {
  const all = Promise.withResolvers<void>();
  let count = 0;
  return () => {
    if (++count >= n) all.resolve();
    return all.promise;
  };
}
