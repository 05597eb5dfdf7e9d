// What differs on PGlite, one connection in this process: a transaction
// holds it, other calls wait (bounded by their timeout), a call on the
// database from inside its own transaction fails at once instead of waiting
// for itself, a running statement cannot be interrupted, and a data
// directory is kept and never opened twice.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createDatabase, type Database, DatabaseError } from "@cqi/database";

describe("pglite backend", () => {
  let db: Database;
  const order: string[] = [];

  before(async () => {
    db = createDatabase("pglite://", {
      onQuery: async (info, run) => {
        const rows = await run();
        order.push(info.text);
        return rows;
      },
    });
    await db.exec("create table marks (label text)");
  }, { timeout: 60_000 });

  after(() => db.close());

  it("a transaction holds the instance: other calls run after it ends", async () => {
    order.length = 0;
    const tx = await db.begin();
    await tx.exec("insert into marks values ('in tx')");
    const outside = db.query("select count(*)::int as n from marks");
    assert.deepEqual(db.stats(), { total: 1, idle: 0, waiting: 1, max: 1 });
    await tx.exec("insert into marks values ('in tx, later')");
    await tx.commit();
    const [{ n }] = await outside;
    assert.equal(n, 2); // it saw the committed transaction, from outside it
    assert.equal(order.at(-1), "select count(*)::int as n from marks");
    assert.deepEqual(db.stats(), { total: 1, idle: 1, waiting: 0, max: 1 });
  });

  it("a call waiting behind a transaction gives up at its timeout, unrun", async () => {
    const tx = await db.begin();
    const started = performance.now();
    const error = await db.exec("insert into marks values ('late')", [], {
      timeout: 100,
    }).catch((e) => e);
    assert.ok(error instanceof DatabaseError);
    assert.equal(error.kind, "timeout");
    assert.ok(performance.now() - started < 1_000);
    await tx.rollback();
    const late = await db.query("select 1 from marks where label = 'late'");
    assert.equal(late.length, 0);
  });

  it("a call on the database inside its own withTransaction fails at once", async () => {
    await assert.rejects(
      db.withTransaction(async () => {
        await db.query("select 1");
      }),
      (e) =>
        e instanceof DatabaseError &&
        /inside withTransaction on PGlite would wait/.test(String(e.cause)),
    );
    // and a nested withTransaction is a savepoint, not a second connection
    const n = await db.withTransaction(() =>
      db.withTransaction((inner) =>
        inner.queryRow<{ n: number }>("select 1 as n").then((r) => r.n)
      )
    );
    assert.equal(n, 1);
  });

  it("a running statement cannot be interrupted: it runs to its end", async () => {
    const rows = await db.query("select pg_sleep(0.2) as slept", [], {
      timeout: 50,
    });
    assert.equal(rows.length, 1);
  });

  it(
    "keeps a data directory across close and reopen, and never opens it twice",
    { timeout: 60_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "cqi-pglite-"));
      try {
        const url = `pglite://${dir}`;
        const first = createDatabase(url);
        await first.exec("create table kept (v text)");
        await first.exec("insert into kept values ($1)", ["still here"]);
        assert.throws(
          () => createDatabase(url),
          /already open in this process/,
        );
        await first.close();
        await using second = createDatabase(url);
        const row = await second.queryRow<{ v: string }>("select v from kept");
        assert.equal(row.v, "still here");
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
