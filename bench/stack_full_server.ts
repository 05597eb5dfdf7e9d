// Serves one variant of the full example path benchmark (issue 20) on
// 127.0.0.1 with the runtime's own server (CQI's `serve` is Deno.serve /
// Bun.serve). Usage: stack_full_server.ts <variant>. Every variant answers
// GET /api/positions/p1 (with `authorization: Bearer <KEY>`) with
// {"assetId":"BTC","quantity":1.5}:
//
// - bare: the handler of bench/stack_variants.ts alone (a Map lookup, no
//   middleware, no auth).
// - cqi-hit-<backend>: the quickstart's own pieces: createApp (app.ts) with
//   apiKey as its guard, over cachedStore(databaseStore(db), cache)
//   (store.ts), behind httpStack of @cqi/service (tracing sampler never,
//   access log to /dev/null, metrics, recovery), with the cache and database
//   hooks of @cqi/service as main.ts has them (bootstrap's cacheHooks and
//   databaseHooks). p1 is stored and read once before wrk starts, so every
//   request is auth → cache hit.
// - cqi-miss-<backend>: the same, except that the cache the store sees builds
//   every key with one more part, a per-request counter, so every read is a
//   genuine miss of the real cache: its lookup, then (on Redis) the
//   cross-process lock, the loader's database query, the store of the value
//   and the unlock. auth → cache miss → database.
// - hono-hit-<backend>: Hono with hono/logger (no-op print), @hono/prometheus
//   and bearerAuth, as the hono variant of bench/stack_variants.ts, reading
//   the position the simplest way from where it is cached: embedded, a Map
//   holding the object (no encoding); real, an ioredis GET (the client CQI's
//   cache uses, auto-pipelined as CQI's is) and JSON.parse.
// - hono-miss-<backend>: the same Hono stack doing cache-aside by hand with
//   the same drivers, missing every time (a per-request key): embedded, a Map
//   get, a PGlite query, a Map set; real, an ioredis GET, a postgres.js query
//   (a pool of 25, prepared, as CQI's), an ioredis SET PX. No lock, no
//   single flight, no validation of the value, no hooks.
//
// Backends: embedded is memory:// and an in-memory PGlite (one connection in
// WASM: concurrent requests queue on it); real is Redis (BENCH_REDIS_URL,
// default redis://127.0.0.1:6379) and PostgreSQL (BENCH_DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/cqi_bench, which bench/stack_full.sh
// creates). Every process keys its cache entries under its own service name.
//
// Checks once that the variant answers 200 with exactly the position before
// printing its port, and exits 1 otherwise.
import process from "node:process";
import { readFile } from "node:fs/promises";
import { Hono } from "hono";
import { logger as honoLogger } from "hono/logger";
import { bearerAuth } from "hono/bearer-auth";
import { prometheus } from "@hono/prometheus";
import { Registry } from "prom-client";
import { Redis } from "ioredis";
import postgres from "postgres";
import { PGlite } from "@electric-sql/pglite";
import { applyMiddleware, serve } from "@cqi/http";
import { createLogger } from "@cqi/logging";
import { createRegistry } from "@cqi/metrics";
import { createTracing, type SpanExporterLike } from "@cqi/tracing";
import { apiKey } from "@cqi/auth";
import { type Cache, createCache } from "@cqi/cache";
import { createDatabase, migrate } from "@cqi/database";
import { cacheHooks, databaseHooks, httpStack } from "@cqi/service";
import { createApp } from "../examples/quickstart/app.ts";
import {
  cachedStore,
  databaseStore,
  type Position,
} from "../examples/quickstart/store.ts";
import { KEY, PATH, variants as stackVariants } from "./stack_variants.ts";

type Handler = (req: Request) => Response | Promise<Response>;

const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const DATABASE_URL = process.env.BENCH_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/cqi_bench";
const MIGRATIONS = new URL(
  "../examples/quickstart/migrations/",
  import.meta.url,
);
const SERVICE = { name: `cqibenchfull${process.pid}` };
const P1: Position = { assetId: "BTC", quantity: 1.5 };
const EXPECTED = JSON.stringify(P1);
const SELECT = "select asset_id, quantity from positions where id = $1";
const TTL = 30_000; // cachedStore's

// Database reads so far: the probe checks that a hit variant reads none and
// a miss variant one per request.
let loads = 0;

const discard: SpanExporterLike = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};

// `cache` with every key one part longer: a counter, so no key repeats.
function missing(cache: Cache): Cache {
  let n = 0;
  return new Proxy(cache, {
    get(target, prop) {
      if (prop === "key") {
        return (prefix: string, ...parts: (string | number)[]) =>
          target.key(prefix, ...parts, n++);
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function cqi(real: boolean, miss: boolean): Promise<Handler> {
  createTracing({ service: SERVICE, exporter: discard, sampler: "never" });
  const logger = createLogger({ service: SERVICE, output: "/dev/null" });
  const registry = createRegistry({ service: SERVICE });
  const observe = { logger, registry, tracing: true };
  const db = createDatabase(real ? DATABASE_URL : "pglite://", {
    service: SERVICE,
    ...databaseHooks("main", observe),
  });
  await migrate(db, MIGRATIONS);
  const cache = createCache(real ? REDIS_URL : "memory://", {
    service: SERVICE,
    ...cacheHooks("main", observe),
  });
  const inner = databaseStore(db);
  await inner.put("p1", P1);
  const stored = {
    ...inner,
    get: (id: string) => (loads++, inner.get(id)),
  };
  const store = cachedStore(stored, miss ? missing(cache) : cache);
  await store.get("p1"); // cached: the hit variant's first request hits too
  const app = createApp({
    store,
    auth: apiKey({ keys: [{ id: "bench", key: KEY }] }),
  });
  return applyMiddleware(app, httpStack({ logger, registry }));
}

function honoApp(get: (id: string) => Promise<Position | undefined>): Handler {
  const app = new Hono();
  app.use(honoLogger(() => {}));
  const { registerMetrics } = prometheus({ registry: new Registry() });
  app.use("*", registerMetrics);
  app.use("/api/*", bearerAuth({ token: KEY }));
  app.get("/api/positions/:id", async (c) => {
    const position = await get(c.req.param("id"));
    if (position === undefined) return c.notFound();
    return c.json(position);
  });
  return (req) => app.fetch(req);
}

const toPosition = (row: { asset_id: string; quantity: string }): Position => ({
  assetId: row.asset_id,
  quantity: Number(row.quantity),
});

async function honoEmbedded(miss: boolean): Promise<Handler> {
  const cached = new Map<string, Position>([["p1", P1]]);
  if (!miss) return honoApp((id) => Promise.resolve(cached.get(id)));
  const pg = await PGlite.create();
  await pg.exec(
    await readFile(new URL("0001_positions.sql", MIGRATIONS), "utf8"),
  );
  await pg.query(
    "insert into positions (id, asset_id, quantity) values ($1, $2, $3)",
    ["p1", P1.assetId, P1.quantity],
  );
  let n = 0;
  return honoApp(async (id) => {
    const key = `position:${id}:${n++}`;
    const hit = cached.get(key);
    if (hit !== undefined) return hit;
    loads++;
    const { rows } = await pg.query<{ asset_id: string; quantity: string }>(
      SELECT,
      [id],
    );
    if (rows.length === 0) return undefined;
    const position = toPosition(rows[0]);
    cached.set(key, position);
    return position;
  });
}

async function honoReal(miss: boolean): Promise<Handler> {
  const url = new URL(REDIS_URL);
  const redis = new Redis({
    host: url.hostname,
    port: Number(url.port || 6379),
    enableAutoPipelining: true,
    maxRetriesPerRequest: 0,
  });
  const prefix = `${SERVICE.name}:position:`;
  await redis.set(prefix + "p1", EXPECTED, "PX", 600_000);
  if (!miss) {
    return honoApp(async (id) => {
      const text = await redis.get(prefix + id);
      return text === null ? undefined : JSON.parse(text);
    });
  }
  const sql = postgres(DATABASE_URL, { max: 25, max_pipeline: 1 });
  let n = 0;
  return honoApp(async (id) => {
    const key = `${prefix}${id}:${n++}`;
    const text = await redis.get(key);
    if (text !== null) return JSON.parse(text);
    loads++;
    const rows = await sql.unsafe<{ asset_id: string; quantity: string }[]>(
      SELECT,
      [id],
      { prepare: true },
    );
    if (rows.length === 0) return undefined;
    const position = toPosition(rows[0]);
    await redis.set(key, JSON.stringify(position), "PX", TTL);
    return position;
  });
}

/** The variants by name, in the order the tables show them. */
const variants: Record<string, () => Handler | Promise<Handler>> = {
  bare: stackVariants.bare,
  "cqi-hit-embedded": () => cqi(false, false),
  "hono-hit-embedded": () => honoEmbedded(false),
  "cqi-miss-embedded": () => cqi(false, true),
  "hono-miss-embedded": () => honoEmbedded(true),
  "cqi-hit-real": () => cqi(true, false),
  "hono-hit-real": () => honoReal(false),
  "cqi-miss-real": () => cqi(true, true),
  "hono-miss-real": () => honoReal(true),
};

const name = process.argv.at(-1)!;
const make = variants[name];
if (make === undefined) throw new Error(`unknown variant ${name}`);
// SIGTERM ends the process: a graceful shutdown would leave it running on
// its open Redis and PostgreSQL connections.
const server = serve(await make(), {
  port: 0,
  hostname: "127.0.0.1",
  handleSignals: false,
});
const before = loads;
for (let i = 0; i < 2; i++) { // twice: a miss variant misses again
  const res = await fetch(`http://127.0.0.1:${server.addr.port}${PATH}`, {
    headers: { authorization: `Bearer ${KEY}` },
  });
  const body = await res.text();
  if (res.status !== 200 || body !== EXPECTED) {
    console.error(`${name}: GET ${PATH} answered ${res.status} ${body}`);
    process.exit(1);
  }
}
const expected = name.includes("-miss-") ? 2 : 0;
if (loads - before !== expected) {
  console.error(
    `${name}: 2 requests read the database ${loads - before} times`,
  );
  process.exit(1);
}
console.log(`port ${server.addr.port}`);
