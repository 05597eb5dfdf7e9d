// The contract every @cqi/database backend keeps: one suite, run against
// PGlite and against the machine's PostgreSQL, on Deno and on Bun
// (database_pglite_test.ts, database_postgres_test.ts).
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { errorResponse } from "@cqi/errors";
import {
  type Database,
  DatabaseError,
  type DatabaseHooks,
  migrate,
  type QueryInfo,
  sql,
} from "@cqi/database";

/** Opens the backend under test with the given hooks. */
export type OpenDatabase = (hooks: DatabaseHooks) => Database;

/** A table name of this run, so runs sharing a server never collide. */
export function tableName(base: string): string {
  return `cqi_ct_${base}_${crypto.randomUUID().slice(0, 8)}`;
}

/** Runs the contract against `open`. */
export function databaseContract(name: string, open: OpenDatabase): void {
  describe(`database contract: ${name}`, () => {
    const seen: { info: QueryInfo; rows?: number; error?: unknown }[] = [];
    const pools: (() => unknown)[] = [];
    let db: Database;
    const accounts = tableName("accounts");
    const fills = tableName("fills");
    const dropped: string[] = [accounts, fills];

    before(async () => {
      db = open({
        onQuery: async (info, run) => {
          const entry: (typeof seen)[number] = { info };
          seen.push(entry);
          try {
            entry.rows = await run();
            return entry.rows;
          } catch (error) {
            entry.error = error;
            throw error;
          }
        },
        onPool: (stats) => pools.push(stats),
      });
      await db.exec(
        `create table ${accounts} (
          id text primary key,
          owner text not null,
          balance bigint not null check (balance >= 0)
        )`,
      );
      await db.exec(
        `create table ${fills} (
          id serial primary key,
          account text not null references ${accounts} (id),
          qty numeric not null
        )`,
      );
    }, { timeout: 60_000 });

    after(async () => {
      for (const table of dropped.reverse()) {
        await db.exec(`drop table if exists ${table}`);
      }
      await db.close();
    });

    it("runs statements with positional parameters and the sql tag", async () => {
      const inserted = await db.exec(
        `insert into ${accounts} values ($1, $2, $3), ($4, $5, $6)`,
        ["a1", "ada", 100, "a2", "bob", 50],
      );
      assert.equal(inserted.rowCount, 2);
      const rows = await db.query<{ id: string; balance: string }>(
        `select id, balance from ${accounts} where balance >= $1 order by id`,
        [50],
      );
      assert.deepEqual(rows.map((r) => r.id), ["a1", "a2"]);
      const min = sql`balance >= ${50}`;
      const tagged = await db.query<{ n: string; tag: string }>(
        sql`select count(*) as n, ${"t"}::text as tag from (values (${100}::int8), (${50}::int8)) as v (balance) where ${min}`,
      );
      assert.deepEqual(tagged, [{ n: "2", tag: "t" }]);
      const updated = await db.exec(
        `update ${accounts} set balance = balance + $1 where id = any($2::text[])`,
        [1, ["a1", "a2"]],
      );
      assert.equal(updated.rowCount, 2);
    });

    it("never lets a parameter change the statement", async () => {
      const hostile = `x'); drop table ${accounts}; --`;
      const row = await db.queryRow<{ v: string }>(
        sql`select ${hostile}::text as v`,
      );
      assert.equal(row.v, hostile);
      const count = await db.queryRow<{ n: string }>(
        `select count(*) as n from ${accounts}`,
      );
      assert.equal(count.n, "2");
    });

    it("returns the same value types on every backend", async () => {
      const row = await db.queryRow(
        `select 9007199254740993::int8 as big, 1.50::numeric as num, 42::int4 as int,
          true as yes, null::text as nothing, '{"a":[1,2]}'::jsonb as doc,
          '\\x0102'::bytea as bytes, array['x','y'] as list,
          '2026-01-02T03:04:05Z'::timestamptz as at`,
      );
      assert.equal(row.big, "9007199254740993"); // int8 as a string: no lost digits
      assert.equal(row.num, "1.50");
      assert.equal(row.int, 42);
      assert.equal(row.yes, true);
      assert.equal(row.nothing, null);
      assert.deepEqual(row.doc, { a: [1, 2] });
      assert.ok(row.bytes instanceof Uint8Array);
      assert.deepEqual([...(row.bytes as Uint8Array)], [1, 2]);
      assert.deepEqual(row.list, ["x", "y"]);
      assert.ok(row.at instanceof Date);
      assert.equal((row.at as Date).toISOString(), "2026-01-02T03:04:05.000Z");
    });

    it("queryRow rejects not_found when there is no row", async () => {
      await assert.rejects(
        db.queryRow(`select * from ${accounts} where id = $1`, ["nope"]),
        (e: unknown) =>
          e instanceof Error && "kind" in e && e.kind === "not_found",
      );
    });

    it("maps a unique violation to conflict, with the constraint and table", async () => {
      const error = await db.exec(
        `insert into ${accounts} values ($1, $2, $3)`,
        ["a1", "secret-owner-value", 1],
      ).catch((e) => e);
      assert.ok(error instanceof DatabaseError);
      assert.equal(error.kind, "conflict");
      assert.equal(error.sqlState, "23505");
      assert.equal(error.constraint, `${accounts}_pkey`);
      assert.equal(error.table, accounts);
      assertNoValue(error, "secret-owner-value");
      const res = errorResponse(error);
      assert.equal(res.status, 409);
      const body = await res.text();
      assert.ok(!body.includes(accounts), body); // no schema names to clients
    });

    it("maps other constraint and value failures to invalid_input, without the values", async () => {
      const cases: [string, unknown[], string][] = [
        [`insert into ${accounts} values ($1, null, 1)`, ["n1"], "23502"],
        [`insert into ${accounts} values ($1, $2, -5)`, [
          "n2",
          "secret-owner-value",
        ], "23514"],
        [`insert into ${fills} (account, qty) values ($1, 1)`, [
          "secret-owner-value",
        ], "23503"],
        [`select $1::int`, ["secret-owner-value"], "22P02"],
      ];
      for (const [text, params, state] of cases) {
        const error = await db.exec(text, params).catch((e) => e);
        assert.ok(error instanceof DatabaseError, text);
        assert.equal(error.kind, "invalid_input", text);
        assert.equal(error.sqlState, state, text);
        assertNoValue(error, "secret-owner-value");
        assert.equal(errorResponse(error).status, 400);
      }
    });

    it("maps syntax errors and unknown tables to permanent, answered 500 without SQL", async () => {
      for (
        const [text, state] of [["selec 1", "42601"], [
          "select * from cqi_no_such_table",
          "42P01",
        ]]
      ) {
        const error = await db.query(text).catch((e) => e);
        assert.ok(error instanceof DatabaseError);
        assert.equal(error.kind, "permanent");
        assert.equal(error.sqlState, state);
        const res = errorResponse(error);
        assert.equal(res.status, 500);
        const body = await res.text();
        assert.ok(
          !body.includes("selec") && !body.includes("cqi_no_such_table"),
          body,
        );
      }
    });

    it("refuses an undefined parameter, naming it", async () => {
      await assert.rejects(
        db.query("select $1::int, $2::int", [1, undefined]),
        /parameter \$2 is undefined/,
      );
    });

    it("begin commits and rolls back", async () => {
      const tx = await db.begin();
      await tx.exec(`update ${accounts} set balance = 0 where id = $1`, ["a1"]);
      await tx.rollback();
      assert.equal(await balance(db, accounts, "a1"), "101");
      const tx2 = await db.begin({ isolation: "serializable" });
      await tx2.exec(`update ${accounts} set balance = 7 where id = $1`, [
        "a1",
      ]);
      assert.equal(await balance(tx2, accounts, "a1"), "7");
      await tx2.commit();
      assert.equal(await balance(db, accounts, "a1"), "7");
      await assert.rejects(tx2.query("select 1"), DatabaseError);
      await tx2.rollback(); // a no-op once ended
    });

    it("withTransaction commits on return, rolls back and rethrows on throw", async () => {
      const value = await db.withTransaction(async (tx) => {
        await tx.exec(`update ${accounts} set balance = 8 where id = $1`, [
          "a1",
        ]);
        return "done";
      });
      assert.equal(value, "done");
      assert.equal(await balance(db, accounts, "a1"), "8");
      const boom = new Error("boom");
      await assert.rejects(
        db.withTransaction(async (tx) => {
          await tx.exec(`update ${accounts} set balance = 0 where id = $1`, [
            "a1",
          ]);
          throw boom;
        }),
        (e) => e === boom,
      );
      assert.equal(await balance(db, accounts, "a1"), "8");
    });

    it("nested withTransaction is a savepoint: the inner failure undoes only its part", async () => {
      await db.withTransaction(async (tx) => {
        await tx.exec(`update ${accounts} set balance = 9 where id = $1`, [
          "a1",
        ]);
        await assert.rejects(
          db.withTransaction(async (inner) => {
            await inner.exec(
              `update ${accounts} set balance = 0 where id = $1`,
              ["a2"],
            );
            await inner.exec(`insert into ${accounts} values ('a1', 'dup', 1)`); // 23505
          }),
          (e) => e instanceof DatabaseError && e.kind === "conflict",
        );
        await tx.withTransaction(async (inner) => {
          await inner.exec(
            `update ${accounts} set owner = 'bea' where id = $1`,
            ["a2"],
          );
        });
      });
      assert.equal(await balance(db, accounts, "a1"), "9");
      assert.equal(await balance(db, accounts, "a2"), "51");
      const owner = await db.queryRow<{ owner: string }>(
        `select owner from ${accounts} where id = 'a2'`,
      );
      assert.equal(owner.owner, "bea");
    });

    it("commit after a failed statement rolls back and says so", async () => {
      const tx = await db.begin();
      await tx.exec(`update ${accounts} set balance = 0 where id = $1`, ["a1"]);
      await tx.exec("selec 1").catch(() => {});
      await assert.rejects(
        tx.commit(),
        (e) => e instanceof DatabaseError && e.sqlState === "25P02",
      );
      assert.equal(await balance(db, accounts, "a1"), "9");
    });

    it("a read-only transaction refuses writes", async () => {
      await assert.rejects(
        db.withTransaction(
          (tx) => tx.exec(`update ${accounts} set balance = 0`),
          { readOnly: true },
        ),
        (e) => e instanceof DatabaseError && e.sqlState === "25006",
      );
    });

    it("an already aborted signal rejects canceled without running", async () => {
      const before = seen.length;
      const error = await db.query("select 1", [], {
        signal: AbortSignal.abort(),
      }).catch((e) => e);
      assert.ok(error instanceof DatabaseError);
      assert.equal(error.kind, "canceled");
      assert.equal(seen.length, before + 1);
      assert.equal(seen.at(-1)?.error, error);
    });

    it("hooks see the operation and text, never the parameters", async () => {
      await db.query(`select owner from ${accounts} where id = $1`, [
        "hook-secret",
      ]);
      const last = seen.at(-1)!;
      assert.equal(last.info.operation, "SELECT");
      assert.equal(last.info.system, "postgresql");
      assert.equal(
        last.info.text,
        `select owner from ${accounts} where id = $1`,
      );
      assert.equal(last.rows, 0);
      assert.ok(!JSON.stringify(seen).includes("hook-secret"));
      assert.equal(pools.length, 1);
      const stats = pools[0]() as {
        total: number;
        idle: number;
        waiting: number;
      };
      assert.ok(
        stats.total >= 1 && stats.idle >= 0 && stats.waiting === 0,
        JSON.stringify(stats),
      );
    });

    it("check resolves while the database answers", async () => {
      await db.check(AbortSignal.timeout(5_000));
    });

    it("migrate applies each migration once, in order, and records it", async () => {
      const table = tableName("migrations");
      const positions = tableName("positions");
      dropped.push(table, positions);
      const migrations = [
        {
          version: 2,
          name: "qty",
          sql:
            `alter table ${positions} add column qty numeric not null default 0`,
        },
        {
          version: 1,
          name: "positions",
          sql:
            `create table ${positions} (id text primary key); create index on ${positions} (id)`,
        },
      ];
      const [first, second] = await Promise.all([
        migrate(db, migrations, { table }),
        migrate(db, migrations, { table }),
      ]);
      assert.deepEqual([...first, ...second].sort(), [1, 2]);
      assert.deepEqual(await migrate(db, migrations, { table }), []);
      const rows = await db.query<{ version: string; name: string }>(
        `select version, name from ${table} order by version`,
      );
      assert.deepEqual(rows.map((r) => [r.version, r.name]), [[
        "1",
        "positions",
      ], ["2", "qty"]]);
    });

    it("migrate from a directory; a failing migration rolls back and records nothing", async () => {
      const dir = await mkdtemp(join(tmpdir(), "cqi-migrations-"));
      const table = tableName("migrations");
      const books = tableName("books");
      dropped.push(table, books);
      try {
        await writeFile(
          join(dir, "0001_books.sql"),
          `create table ${books} (id int primary key);`,
        );
        await writeFile(
          join(dir, "0002_broken.sql"),
          `insert into ${books} values (1); selec 1;`,
        );
        await writeFile(join(dir, "README.md"), "not a migration");
        const error = await migrate(db, dir, { table }).catch((e) => e);
        assert.ok(error instanceof DatabaseError);
        assert.match(String(error.cause), /migration 2 \(broken\) failed/);
        const count = await db.queryRow<{ n: string }>(
          `select count(*) as n from ${books}`,
        );
        assert.equal(count.n, "0"); // the insert of 0002 rolled back
        const applied = await db.query(`select version from ${table}`);
        assert.equal(applied.length, 1);
        await writeFile(join(dir, "bad name.sql"), "select 1");
        await assert.rejects(
          migrate(db, dir, { table }),
          /is not named <version>_<name>\.sql/,
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("close waits for running calls, then refuses new ones as temporary", {
      timeout: 60_000,
    }, async () => {
      const started = Promise.withResolvers<void>();
      const own = open({
        onQuery: (info, run) => {
          if (info.text.includes("pg_sleep")) started.resolve();
          return run();
        },
      });
      await own.query("select 1");
      const running = own.query("select pg_sleep(0.2) as slept");
      await started.promise;
      await own.close({ timeout: 5_000 });
      assert.equal((await running).length, 1);
      const error = await own.query("select 1").catch((e) => e);
      assert.ok(error instanceof DatabaseError);
      assert.equal(error.kind, "temporary");
      await own.close(); // idempotent
      await own[Symbol.asyncDispose]();
    });
  });
}

async function balance(
  db: Pick<Database, "queryRow">,
  table: string,
  id: string,
): Promise<string> {
  const row = await db.queryRow<{ balance: string }>(
    `select balance from ${table} where id = $1`,
    [id],
  );
  return row.balance;
}

// A parameter value must appear nowhere in an error: message, cause chain,
// own fields, JSON.
function assertNoValue(error: Error, value: string): void {
  let text = "";
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    text += `${e.message}\n${JSON.stringify(e)}\n${String(e)}\n`;
    text += Object.values(e).map(String).join("\n");
  }
  assert.ok(!text.includes(value), text);
}
