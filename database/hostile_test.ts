// Defects a red-team pass found, each pinned by a test that failed first:
// on PGlite and, where the server matters, on PostgreSQL.
import assert from "node:assert/strict";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  createDatabase,
  type Database,
  DatabaseError,
  migrate,
  sql,
} from "./mod.ts";
import {
  POSTGRES_URL,
  postgresReachable,
  requirePostgres,
} from "./testdata/postgres.ts";

const hasServer = await postgresReachable();
const backends: [string, () => Database][] = [
  ["pglite", () => createDatabase("pglite://")],
];
if (hasServer || process.env.CI === "true") {
  backends.push([
    "postgres",
    () => createDatabase(POSTGRES_URL, { maxConnections: 4 }),
  ]);
}

for (const [name, open] of backends) {
  describe(`hostile use (${name})`, () => {
    let db: Database;
    const t = `cqi_hostile_${crypto.randomUUID().slice(0, 8)}`;

    before(async () => {
      db = open();
      await db.exec(`create table ${t} (id int primary key)`);
    }, { timeout: 60_000 });

    after(async () => {
      await db.exec(`drop table if exists ${t}`);
      await db.close();
    });

    it("commit waits for running statements, and a failure among them rolls back", async () => {
      await db.exec(`delete from ${t}`);
      await db.exec(`insert into ${t} values (1)`);
      const tx = await db.begin();
      await tx.exec(`insert into ${t} values (2)`);
      const dup = tx.exec(`insert into ${t} values (1)`); // 23505, still running
      const commit = tx.commit();
      await assert.rejects(
        dup,
        (e) => e instanceof DatabaseError && e.sqlState === "23505",
      );
      await assert.rejects(commit, DatabaseError);
      const rows = await db.query<{ id: number }>(
        `select id from ${t} order by id`,
      );
      assert.deepEqual(rows.map((r) => r.id), [1]);
    });

    it("withTransaction with a statement left unawaited does not report a commit that did not happen", async () => {
      await db.exec(`delete from ${t}`);
      await db.exec(`insert into ${t} values (1)`);
      let unawaited: Promise<unknown> | undefined;
      const outcome = db.withTransaction(async (tx) => {
        await tx.exec(`insert into ${t} values (5)`);
        unawaited = tx.exec(`insert into ${t} values (1)`); // forgotten await
        unawaited.catch(() => {});
        return "committed";
      }, { retries: 0 });
      await assert.rejects(outcome, DatabaseError);
      const rows = await db.query<{ id: number }>(
        `select id from ${t} order by id`,
      );
      assert.deepEqual(rows.map((r) => r.id), [1]);
    });

    it("a savepoint recovers from a statement error the server raised, and the transaction commits", async () => {
      await db.exec(`delete from ${t}`);
      await db.withTransaction(async (tx) => {
        await tx.exec(`insert into ${t} values (10)`);
        // A timeout the server raises (57014; lock_timeout and NOWAIT give
        // 55P03) is a statement error: the savepoint undoes it. (PGlite
        // cannot time a statement out: there the sleep just ends.)
        const timedOut = await tx.withTransaction((inner) =>
          inner.exec("set local statement_timeout = 50; select pg_sleep(0.3)")
        ).then(() => undefined, (e) => e);
        if (name === "postgres") {
          assert.ok(timedOut instanceof DatabaseError);
          assert.equal(timedOut.sqlState, "57014");
        }
        await assert.rejects(
          tx.withTransaction((inner) => inner.exec("select 1/0")),
          DatabaseError,
        );
        await tx.exec(`insert into ${t} values (11)`);
      });
      const rows = await db.query<{ id: number }>(
        `select id from ${t} order by id`,
      );
      assert.deepEqual(rows.map((r) => r.id), [10, 11]);
    });

    it("work that outlives a transaction is not treated as inside it", async () => {
      let later: Promise<unknown> | undefined;
      const gate = Promise.withResolvers<void>();
      await db.withTransaction(async (tx) => {
        await tx.query("select 1");
        later = gate.promise.then(() =>
          db.withTransaction((again) => again.query("select 2 as two"))
        );
      });
      gate.resolve();
      assert.deepEqual(await later, [{ two: 2 }]);
      // and with a query on the database itself
      let query: Promise<unknown> | undefined;
      const gate2 = Promise.withResolvers<void>();
      await db.withTransaction(async (tx) => {
        await tx.query("select 1");
        query = gate2.promise.then(() => db.query("select 3 as three"));
      });
      gate2.resolve();
      assert.deepEqual(await query, [{ three: 3 }]);
    });

    it("sibling savepoints run one after the other, so handled failures do not sink the transaction", async () => {
      await db.exec(`delete from ${t}`);
      await db.withTransaction(async () => {
        const results = await Promise.allSettled([
          db.withTransaction((a) => a.exec(`insert into ${t} values (20)`)),
          db.withTransaction((b) => b.exec(`insert into ${t} values (20)`)), // 23505
          db.withTransaction((c) => c.exec(`insert into ${t} values (21)`)),
        ]);
        assert.deepEqual(results.map((r) => r.status), [
          "fulfilled",
          "rejected",
          "fulfilled",
        ]);
      });
      const rows = await db.query<{ id: number }>(
        `select id from ${t} order by id`,
      );
      assert.deepEqual(rows.map((r) => r.id), [20, 21]);
    });

    it("hooks see COMMIT and ROLLBACK", { timeout: 60_000 }, async () => {
      const seen: string[] = [];
      const hooks = {
        onQuery: (info: { operation: string }, run: () => Promise<number>) => {
          seen.push(info.operation);
          return run();
        },
      };
      await using own = name === "pglite"
        ? createDatabase("pglite://", hooks)
        : createDatabase(POSTGRES_URL, hooks);
      await own.withTransaction((tx) => tx.query("select 1"));
      await own.withTransaction(() => Promise.reject(new Error("no"))).catch(
        () => {},
      );
      assert.deepEqual(seen, [
        "BEGIN",
        "SELECT",
        "COMMIT",
        "BEGIN",
        "ROLLBACK",
      ]);
    });

    it("a savepoint whose body swallowed a statement error is rolled back to, and the transaction goes on", async () => {
      await db.exec(`delete from ${t}`);
      await db.withTransaction(async (tx) => {
        await tx.exec(`insert into ${t} values (1)`);
        const error = await tx.withTransaction(async (inner) => {
          await inner.exec(`insert into ${t} values (2)`);
          await inner.exec(`insert into ${t} values (1)`).catch(() => {}); // 23505, swallowed
        }).then(() => undefined, (e) => e);
        assert.ok(error instanceof DatabaseError);
        assert.equal(error.sqlState, "25P02");
        await tx.exec(`insert into ${t} values (3)`);
      });
      const rows = await db.query<{ id: number }>(
        `select id from ${t} order by id`,
      );
      assert.deepEqual(rows.map((r) => r.id), [1, 3]);
    });

    it("commit with a savepoint still running rolls back instead of committing half of it", async () => {
      await db.exec(`delete from ${t}`);
      const half = Promise.withResolvers<void>();
      const finish = Promise.withResolvers<void>();
      let running: Promise<unknown> | undefined;
      const outcome = db.withTransaction(async (tx) => {
        running = tx.withTransaction(async (inner) => {
          await inner.exec(`insert into ${t} values (10)`);
          half.resolve();
          await finish.promise;
          await inner.exec(`insert into ${t} values (11)`);
        });
        running.catch(() => {});
        await half.promise; // forgot to await the savepoint
      }, { retries: 0 });
      await assert.rejects(outcome, DatabaseError);
      finish.resolve();
      await assert.rejects(running!, DatabaseError);
      const rows = await db.query(`select id from ${t}`);
      assert.deepEqual(rows, []);
    });

    it("rollback while a commit is on its way waits for its outcome and changes nothing", async () => {
      await db.exec(`delete from ${t}`);
      const tx = await db.begin();
      await tx.exec(`insert into ${t} values (30)`);
      let committed = false;
      const commit = tx.commit().then(() => committed = true);
      await tx.rollback();
      assert.equal(committed, true); // it waited for the commit
      await commit;
      assert.equal((await db.query(`select id from ${t}`)).length, 1);
    });

    it(
      "an onQuery hook cannot run a statement twice or late, and the caller gets the statement's own outcome",
      { timeout: 60_000 },
      async () => {
        const table = `${t}_hooks`;
        const make = async (
          onQuery: (
            info: unknown,
            run: () => Promise<number>,
          ) => Promise<number>,
        ) => {
          const own = name === "pglite"
            ? createDatabase("pglite://", { onQuery })
            : createDatabase(POSTGRES_URL, { onQuery });
          await own.exec(`create table if not exists ${table} (id int)`);
          return own;
        };
        const count = async (own: Database) =>
          (await own.query(`select id from ${table} where id > 0`)).length;
        try {
          let second: unknown;
          await using twice = await make(async (_info, run) => {
            const rows = await run();
            await run().catch((e) => second = e);
            return rows;
          });
          assert.deepEqual(
            await twice.exec(`insert into ${table} values (1)`),
            { rowCount: 1 },
          );
          assert.match(String(second), /run\(\) twice/);
          assert.equal(await count(twice), 1);
          let lateError: unknown;
          const lateRan = Promise.withResolvers<void>();
          await using late = await make((info, run) => {
            if (
              !(info as { text: string }).text.startsWith("insert")
            ) return run();
            setTimeout(
              () => run().catch((e) => lateError = e).finally(lateRan.resolve),
              20,
            );
            return Promise.resolve(7);
          });
          await assert.rejects(
            late.exec(`insert into ${table} values (2)`),
            /must call run\(\)/,
          );
          await lateRan.promise;
          assert.match(String(lateError), /after it returned/);
          assert.equal(await count(late), name === "pglite" ? 0 : 1); // never ran late
        } finally {
          await db.exec(`drop table if exists ${table}`);
        }
      },
    );

    it("a parameter never reaches an error's cause, whatever the server quotes", async () => {
      const secret = "tok_S3cretValue";
      const cases: [string, unknown[]][] = [
        ["select to_tsquery($1)", [`a & & ${secret}`]],
        ["select current_setting($1)", [secret]],
        ["select $1::regclass", [secret]],
        ["select $1::int", [secret]],
      ];
      for (const [text, params] of cases) {
        const error = await db.query(text, params).catch((e) => e);
        assert.ok(error instanceof DatabaseError, text);
        let all = "";
        for (let e: unknown = error; e instanceof Error; e = e.cause) {
          all += `${e.message}\n${JSON.stringify(e)}\n`;
        }
        assert.ok(!all.toLowerCase().includes(secret.toLowerCase()), all);
      }
    });

    it("refuses parameters no backend stores alike, naming them", async () => {
      await assert.rejects(
        db.query("select $1::text", [Symbol("s")]),
        /parameter \$1 is a symbol/,
      );
      await assert.rejects(
        db.query("select $1::text", [() => 1]),
        /parameter \$1 is a function/,
      );
    });
  });
}

describe("hostile use (postgres only)", () => {
  it(
    "concurrent migrate on a fresh database: every replica succeeds, each migration applied once",
    { timeout: 60_000 },
    async (t) => {
      if (!await requirePostgres(t)) return;
      const table = `cqi_hostile_mig_${crypto.randomUUID().slice(0, 8)}`;
      const made = `cqi_hostile_made_${crypto.randomUUID().slice(0, 8)}`;
      const replicas = Array.from(
        { length: 6 },
        () => createDatabase(POSTGRES_URL, { maxConnections: 2 }),
      );
      try {
        const results = await Promise.allSettled(
          replicas.map((db) =>
            migrate(db, [{
              version: 1,
              name: "made",
              sql: `create table ${made} (id int)`,
            }], { table })
          ),
        );
        assert.deepEqual(
          results.filter((r) => r.status === "rejected"),
          [],
        );
        const applied = results.flatMap((r) =>
          (r as PromiseFulfilledResult<number[]>).value
        );
        assert.deepEqual(applied, [1]);
      } finally {
        await replicas[0].exec(`drop table if exists ${table}`);
        await replicas[0].exec(`drop table if exists ${made}`);
        await Promise.all(replicas.map((db) => db.close()));
      }
    },
  );

  it("waiting counts only calls still waiting, not transactions that gave up", {
    timeout: 60_000,
  }, async (t) => {
    if (!await requirePostgres(t)) return;
    await using db = createDatabase(POSTGRES_URL, { maxConnections: 1 });
    const holder = await db.begin();
    const gaveUp = await Promise.allSettled(
      Array.from({ length: 50 }, () => db.begin({ timeout: 20 })),
    );
    assert.ok(gaveUp.every((r) => r.status === "rejected"));
    assert.equal(db.stats().waiting, 0);
    await holder.rollback();
    await db.check(AbortSignal.timeout(5_000));
  });

  it("a savepoint body's own error is what the caller sees when the connection dies before the rollback to it", async (t) => {
    if (!await requirePostgres(t)) return;
    await using db = createDatabase(POSTGRES_URL, { maxConnections: 2 });
    await using admin = createDatabase(POSTGRES_URL, { maxConnections: 1 });
    const mine = new Error("the body's own");
    const error = await db.withTransaction(async (tx) => {
      const { pid } = await tx.queryRow<{ pid: number }>(
        "select pg_backend_pid() as pid",
      );
      await tx.withTransaction(async () => {
        await admin.query("select pg_terminate_backend($1)", [pid]);
        throw mine;
      });
    }, { retries: 0 }).catch((e) => e);
    assert.equal(error, mine);
    await db.check(AbortSignal.timeout(5_000));
  });

  it("rollback cancels a running statement instead of waiting for it", async (t) => {
    if (!await requirePostgres(t)) return;
    await using db = createDatabase(POSTGRES_URL, { maxConnections: 1 });
    const tx = await db.begin();
    const running = tx.query("select pg_sleep(5)");
    running.catch(() => {});
    const started = performance.now();
    await tx.rollback();
    assert.ok(performance.now() - started < 2_000);
    await assert.rejects(running, DatabaseError);
  });
});

describe("hostile use (pglite only)", () => {
  it("calls queued behind running statements still time out, unrun", {
    timeout: 60_000,
  }, async () => {
    await using db = createDatabase("pglite://");
    await db.query("select 1");
    const started = performance.now();
    const results = await Promise.allSettled(
      Array.from(
        { length: 6 },
        () => db.query("select pg_sleep(0.15)", [], { timeout: 400 }),
      ),
    );
    const ran = results.filter((r) => r.status === "fulfilled").length;
    const timedOut = results.filter((r) =>
      r.status === "rejected" && r.reason instanceof DatabaseError &&
      r.reason.kind === "timeout"
    ).length;
    assert.equal(ran + timedOut, 6);
    assert.ok(ran <= 4, `${ran} ran: one that waited past 400 ms ran anyway`);
    assert.ok(performance.now() - started < 1_500);
  });

  it(
    "a statement sent after its transaction ended never runs outside the lock",
    { timeout: 60_000 },
    async () => {
      const held = Promise.withResolvers<() => void>();
      await using db = createDatabase("pglite://");
      await db.exec("create table late (id int)");
      const tx = await db.begin();
      await tx.rollback();
      await assert.rejects(
        tx.exec("insert into late values (1)"),
        DatabaseError,
      );
      held.resolve(() => {});
      assert.equal((await db.query("select * from late")).length, 0);
    },
  );
});

describe("hostile options", () => {
  it("refuses timeouts a timer cannot hold, and Infinity means none", async () => {
    assert.throws(
      () => createDatabase("pglite://", { queryTimeout: 3e9 }),
      RangeError,
    );
    await using db = createDatabase("pglite://");
    await assert.rejects(
      db.query("select 1", [], { timeout: 2 ** 31 }),
      RangeError,
    );
    assert.deepEqual(
      await db.query("select 1 as one", [], { timeout: Infinity }),
      [{ one: 1 }],
    );
  });

  it("close({ timeout: Infinity }) waits for running calls", {
    timeout: 60_000,
  }, async (t) => {
    if (!await requirePostgres(t)) return;
    const db = createDatabase(POSTGRES_URL);
    const running = db.query("select pg_sleep(0.3) as slept");
    await db.query("select 1"); // connected, and the sleep is running
    await db.close({ timeout: Infinity });
    assert.equal((await running).length, 1);
  });

  it("URL errors never repeat a value that may be part of a password", () => {
    for (
      const url of [
        "postgres://admin:1234?S3cret@db.example/prod",
        "postgres://db/app?sslmode=S3cret",
      ]
    ) {
      assert.throws(() => createDatabase(url), (e) => {
        assert.ok(e instanceof TypeError);
        assert.ok(!e.message.includes("S3cret"), e.message);
        return true;
      });
    }
  });

  it("refuses a port outside 1-65535, a relative PGlite path, and takes a plain password string", async () => {
    assert.throws(
      () => createDatabase("postgres://db:0/app"),
      /port must be from 1 to 65535/,
    );
    assert.throws(
      () =>
        createDatabase({ host: "db", database: "app", port: 70000 } as never),
      /port must be from 1 to 65535/,
    );
    assert.throws(() => createDatabase("pglite:relative/dir"), /absolute/);
    const db = createDatabase(
      {
        host: "127.0.0.1",
        port: 1,
        database: "app",
        password: "plain",
      } as never,
    );
    assert.equal(
      (await db.query("select 1").catch((e) => e)).kind,
      "temporary",
    );
    await db.close();
  });

  it(
    "migrate quotes its table name, and reads a file URL with an escaped space",
    { timeout: 60_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "cqi mig "));
      try {
        const { writeFile } = await import("node:fs/promises");
        await writeFile(join(dir, "0001_one.sql"), "create table one (id int)");
        await using db = createDatabase("pglite://");
        const url = new URL(`file://${dir.replaceAll(" ", "%20")}/`);
        assert.deepEqual(await migrate(db, url, { table: "order" }), [1]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it("a PGlite directory cannot be opened twice through a symlink", {
    timeout: 60_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "cqi-pglite-link-"));
    try {
      const data = join(dir, "data");
      const first = createDatabase(`pglite://${data}`);
      await first.query("select 1");
      await symlink(data, join(dir, "link"));
      assert.throws(
        () => createDatabase(`pglite://${join(dir, "link")}`),
        /already open/,
      );
      await first.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the sql tag splices only fragments it made, not look-alikes", () => {
    const fake = new Proxy({}, {
      get: () => ({ texts: ["1); drop table x; --"], params: [] }),
    });
    const s = sql`select ${fake}`;
    assert.equal(s.text, "select $1");
    assert.equal(s.params[0], fake);
  });
});
