// Cost of @cqi/database over the raw clients, in process:
// - PostgreSQL (127.0.0.1:5432, database test): a point select by primary key
//   and a single-row insert, through raw postgres.js and through CQI with the
//   same pool size (10), one caller at a time and 32 concurrent callers. CQI
//   runs one statement per connection (`max_pipeline: 1`, so a cancel cannot
//   land on another caller's statement); raw postgres.js is measured both
//   with that setting (the like-for-like comparison) and with its default
//   pipelining (up to 100 statements queued on a connection).
// - PGlite (in memory): the same point select and insert, raw and through CQI.
// - CQI with `databaseHooks` (metrics and tracing on, no exporter) too.
//
//   deno run -A bench/database.ts [--ops=4000] [--rounds=5]
//   bun run bench/database.ts [...]
//
// Variants alternate within each round (order rotating); round 0 warms up
// and is dropped. Prints Markdown: median ops/s per variant, and the median
// (and range) over rounds of each variant's time per operation relative to
// the baseline's in the same round (neighbours in time compare best on a
// machine the server shares).
import process from "node:process";
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { createDatabase, type Database } from "@cqi/database";
import { createRegistry } from "@cqi/metrics";
import { databaseHooks } from "@cqi/service";
import { median } from "./_stats.ts";

const runtime = "Bun" in globalThis ? "bun" : "deno";
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")),
);
const OPS = Number(args.ops ?? 4_000);
const ROUNDS = Number(args.rounds ?? 5);
const URL = process.env.CQI_TEST_POSTGRES_URL ??
  "postgres://postgres@127.0.0.1:5432/test";
const POOL = 10;
const TABLE = `cqi_bench_${process.pid}`;
const SELECT = `select id, owner, balance from ${TABLE} where id = $1`;
const INSERT = `insert into ${TABLE} (id, owner, balance) values ($1, $2, $3)`;

/** One operation: `i` is its number in the round, unique across variants. */
type Op = (i: number) => Promise<unknown>;
interface Subject {
  select: Op;
  insert: Op;
}

let nextId = 1_000_000;
const ids = () => nextId++;

function raw(sql: ReturnType<typeof postgres>): Subject {
  return {
    select: (i) => sql.unsafe(SELECT, [`a${i % 1000}`], { prepare: true }),
    insert: () =>
      sql.unsafe(INSERT, [`n${ids()}`, "bench", 1], { prepare: true }),
  };
}

function cqi(db: Database): Subject {
  return {
    select: (i) => db.query(SELECT, [`a${i % 1000}`]),
    insert: () => db.exec(INSERT, [`n${ids()}`, "bench", 1]),
  };
}

function rawPglite(pg: PGlite): Subject {
  return {
    select: (i) => pg.query(SELECT, [`a${i % 1000}`]),
    insert: () => pg.query(INSERT, [`n${ids()}`, "bench", 1]),
  };
}

/** Runs `ops` operations with `concurrency` callers; returns ops/s. */
async function measure(op: Op, ops: number, concurrency: number) {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < ops) await op(next++);
  }));
  return ops / ((performance.now() - started) / 1000);
}

async function seed(
  run: (text: string, params?: unknown[]) => Promise<unknown>,
) {
  await run(`drop table if exists ${TABLE}`);
  await run(
    `create table ${TABLE} (id text primary key, owner text not null, balance bigint not null)`,
  );
  await run(
    `insert into ${TABLE} select 'a' || g, 'owner', g from generate_series(0, 999) g`,
  );
}

async function compare(
  title: string,
  subjects: Record<string, Subject>,
  baseline: string,
  concurrency: number,
) {
  const names = Object.keys(subjects);
  const results: Record<string, Record<"select" | "insert", number[]>> = {};
  for (const name of names) results[name] = { select: [], insert: [] };
  for (let round = 0; round <= ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const kind of ["select", "insert"] as const) {
      for (const name of order) {
        const rate = await measure(subjects[name][kind], OPS, concurrency);
        if (round > 0) results[name][kind].push(rate);
      }
    }
  }
  console.log(
    `\n### ${title} (${runtime}, ${concurrency} caller${
      concurrency > 1 ? "s" : ""
    })\n`,
  );
  console.log(
    `| variant | select ops/s | select time vs ${baseline} | insert ops/s | insert time vs ${baseline} |`,
  );
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const name of names) {
    const row = [name];
    for (const kind of ["select", "insert"] as const) {
      const ratios = results[name][kind].map((rate, i) =>
        results[baseline][kind][i] / rate
      );
      const [low, high] = [Math.min(...ratios), Math.max(...ratios)];
      row.push(
        Math.round(median(results[name][kind])).toLocaleString("en"),
        name === baseline
          ? "1.00×"
          : `${median(ratios).toFixed(2)}× (${low.toFixed(2)}–${
            high.toFixed(2)
          })`,
      );
    }
    console.log(`| ${row.join(" | ")} |`);
  }
}

const registry = createRegistry({ namespace: "bench" });
const hooked = databaseHooks("main", { registry });

// PostgreSQL
{
  const pipelined = postgres(URL, { max: POOL, onnotice: false });
  const oneAtATime = postgres(URL, {
    max: POOL,
    max_pipeline: 1,
    onnotice: false,
  });
  const db = createDatabase(URL, { maxConnections: POOL });
  const observed = createDatabase(URL, { maxConnections: POOL, ...hooked });
  await seed((text, params) => db.exec(text, params));
  const subjects = {
    "postgres.js, max_pipeline 1": raw(oneAtATime),
    "CQI": cqi(db),
    "CQI + databaseHooks": cqi(observed),
    "postgres.js, default pipelining": raw(pipelined),
  };
  for (const concurrency of [1, 32]) {
    await compare(
      "PostgreSQL",
      subjects,
      "postgres.js, max_pipeline 1",
      concurrency,
    );
  }
  await db.exec(`drop table ${TABLE}`);
  await Promise.all([
    pipelined.end(),
    oneAtATime.end(),
    db.close(),
    observed.close(),
  ]);
}

// PGlite
{
  const pg = await PGlite.create();
  const db = createDatabase("pglite://");
  await seed((text, params) => pg.query(text, params));
  await seed((text, params) => db.exec(text, params));
  await compare(
    "PGlite",
    { "PGlite": rawPglite(pg), "CQI": cqi(db) },
    "PGlite",
    1,
  );
  await Promise.all([pg.close(), db.close()]);
}
