import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createDatabase, type Database } from "@cqi/database";
import { createLogger, memorySink } from "@cqi/logging";
import { createRegistry } from "@cqi/metrics";
import { createTracing, startSpan, type Tracing } from "@cqi/tracing";
import { databaseHooks } from "./mod.ts";

describe("databaseHooks", () => {
  const sink = memorySink();
  const logger = createLogger({ service: { name: "cqpm" }, output: sink });
  const registry = createRegistry({ namespace: "cqpm" });
  let tracing: Tracing;
  let db: Database;

  before(async () => {
    tracing = createTracing({
      service: { name: "cqpm" },
      exporter: "memory",
      sampler: "always",
    });
    db = createDatabase(
      "pglite://",
      databaseHooks("main", { logger, registry, slowQuery: 50 }),
    );
    await db.exec("create table accounts (id text primary key)");
    tracing.reset();
  }, { timeout: 60_000 });

  after(async () => {
    await db.close();
    await tracing.close();
    await logger.close();
  });

  it("times statements by operation and outcome", async () => {
    await db.exec("insert into accounts values ($1)", ["acc-1"]);
    await db.exec("insert into accounts values ($1)", ["acc-1"]).catch(
      () => {},
    );
    const text = await registry.metrics();
    assert.ok(
      text.includes(
        'cqpm_db_query_duration_seconds_count{database="main",operation="INSERT",outcome="ok"} 1',
      ),
      text,
    );
    assert.ok(
      text.includes(
        'cqpm_db_query_duration_seconds_count{database="main",operation="INSERT",outcome="conflict"} 1',
      ),
    );
    assert.ok(!text.includes("acc-1"));
  });

  it("reports the pool at scrape time", async () => {
    const tx = await db.begin();
    const waiting = db.query("select 1");
    const text = await registry.metrics();
    assert.ok(
      text.includes('cqpm_db_pool_connections{database="main",state="busy"} 1'),
      text,
    );
    assert.ok(
      text.includes('cqpm_db_pool_connections{database="main",state="idle"} 0'),
    );
    assert.ok(text.includes('cqpm_db_pool_waiting{database="main"} 1'));
    assert.ok(text.includes('cqpm_db_pool_max_connections{database="main"} 1'));
    await tx.commit();
    await waiting;
    // a second database on the same registry gets its own series
    await using other = createDatabase(
      "pglite://",
      databaseHooks("other", { registry }),
    );
    await other.query("select 1");
    const both = await registry.metrics();
    assert.ok(both.includes('cqpm_db_pool_waiting{database="other"} 0'), both);
    assert.ok(both.includes('cqpm_db_pool_waiting{database="main"} 0'));
  });

  it("logs a slow statement with its text, never its parameters", async () => {
    sink.clear();
    await db.query("select pg_sleep(0.06), $1::text as secret", ["s3cr3t"]);
    await db.query("select 1");
    assert.equal(sink.records.length, 1, JSON.stringify(sink.records));
    const [line] = sink.records;
    assert.equal(line.message, "slow query");
    assert.equal(line.level, "warn");
    assert.equal(line.database, "main");
    assert.equal(line.operation, "SELECT");
    assert.equal(line.statement, "select pg_sleep(0.06), $1::text as secret");
    assert.equal(line.rows, 1);
    assert.ok((line.duration_ms as number) >= 50);
    assert.ok(!JSON.stringify(sink.records).includes("s3cr3t"));
  });

  it("makes a client span per statement, a child of the caller's", async () => {
    tracing.reset();
    await startSpan("handler", async () => {
      await db.query("select id from accounts where id = $1", ["acc-9"]);
      await db.exec("insert into accounts values ($1)", ["acc-1"]).catch(
        () => {},
      );
    });
    const [select, insert, handler] = tracing.spans();
    assert.equal(select.name, "SELECT postgres");
    assert.equal(select.kind, "client");
    assert.equal(select.parentSpanId, handler.spanId);
    assert.deepEqual(
      { ...select.attributes },
      {
        "db.system.name": "postgresql",
        "db.operation.name": "SELECT",
        "db.query.text": "select id from accounts where id = $1",
        "db.namespace": "postgres",
      },
    );
    assert.equal(insert.status.code, "error");
    assert.equal(insert.attributes["error.type"], "DatabaseError");
    assert.equal(insert.attributes["db.response.status_code"], "23505");
    assert.ok(!JSON.stringify(tracing.spans()).includes("acc-9"));
  });

  it("refuses a nameless database and a negative threshold", () => {
    assert.throws(() => databaseHooks(""), TypeError);
    assert.throws(() => databaseHooks("main", { slowQuery: -1 }), RangeError);
  });
});
