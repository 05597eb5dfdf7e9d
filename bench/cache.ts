// Cost of @cqi/cache over the raw clients and against bentocache, in process:
// 1. `get` and `set` of a small protobuf Asset against Redis
//    (127.0.0.1:6379, or CQI_TEST_REDIS_URL): raw node-redis and raw ioredis,
//    built with the options CQI's drivers use (node-redis: command timeout,
//    `rejectInFlight`, blob strings as Buffers, no offline queue; ioredis:
//    command and socket timeouts, no offline queue, no retries, auto-
//    pipelining), doing the same toBinary/fromBinary work and GET / SET PX;
//    CQI over each client; and raw ioredis without auto-pipelining.
//    One caller at a time (--ops per round) and 32 concurrent callers (4×
//    --ops per round).
// 2. The L1 hit path: CQI `getOrLoad` with `l1: true` on Redis (every call an
//    L1 hit) and on `memory://`, against bentocache's `getOrSet` on a store
//    with only its memory L1 driver, with its default `serialize: true`
//    (values kept as JSON text, parsed on every hit) and with
//    `serialize: false` (the object itself kept and returned), and an awaited
//    `Map.get`. The value is the same plain object for every variant (CQI
//    with `json()`), plus CQI with the protobuf Asset.
// 3. The getOrLoad miss path (a new key every call, a loader that returns at
//    once): CQI `memory://` against bentocache's memory L1.
//
//   deno run -A bench/cache.ts [--rounds=9] [--ops=3000] [--hits=50000] [--misses=20000]
//   bun run bench/cache.ts [...]
//
// Variants alternate within each round (order rotating); round 0 warms up
// and is dropped. Prints Markdown: per variant the median time per operation
// over rounds (and its range), and the median (and range) over rounds of its
// time relative to the baseline's in the same round.
import process from "node:process";
import { Buffer } from "node:buffer";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient, RESP_TYPES } from "redis";
import { Redis } from "ioredis";
import { BentoCache, bentostore } from "bentocache";
import { memoryDriver } from "bentocache/drivers/memory";
import { json } from "@cqi/codec";
import { type Cache, createCache } from "@cqi/cache";
import {
  AssetClass,
  AssetSchema,
} from "../proto/gen/cqc/entities/v1/asset_pb.ts";
import { ratio, spread } from "./_stats.ts";

const runtime = "Bun" in globalThis ? "bun" : "deno";
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")),
);
const ROUNDS = Number(args.rounds ?? 9);
const OPS = Number(args.ops ?? 3_000);
const HITS = Number(args.hits ?? 50_000);
const MISSES = Number(args.misses ?? 20_000);
const URL = process.env.CQI_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const target = new globalThis.URL(URL);
const HOST = target.hostname;
const PORT = Number(target.port || 6379);
// Every key (and CQI's invalidation channel) is under this service name.
const SERVICE = `cqibench${process.pid}`;
const KEYS = 1_000;
const TTL = 10 * 60_000;
// CQI's defaults, which its drivers turn into client options.
const COMMAND_TIMEOUT = 3_000;
const CONNECTION_TIMEOUT = 5_000;

const asset = create(AssetSchema, {
  id: "ast_0001",
  symbol: "AAPL",
  class: AssetClass.EQUITY,
  name: "Apple Inc.",
  decimals: 2,
  listedAt: timestampFromDate(new Date("1980-12-12T00:00:00Z")),
  tags: { venue: "xnas" },
  lotSize: 100n,
  active: true,
});
const ASSET_BYTES = toBinary(AssetSchema, asset).length;
// The same data as a plain object, for the comparisons with bentocache.
const plain = {
  id: "ast_0001",
  symbol: "AAPL",
  class: 1,
  name: "Apple Inc.",
  decimals: 2,
  listedAt: "1980-12-12T00:00:00Z",
  tags: { venue: "xnas" },
  lotSize: 100,
  active: true,
};
type Plain = typeof plain;
const Plain = json<Plain>();

/** One operation: `i` is its number in the round. */
type Op = (i: number) => Promise<unknown>;

/** Runs `ops` operations with `concurrency` callers; returns ns per op. */
async function measure(op: Op, ops: number, concurrency: number) {
  let next = 0;
  const started = performance.now();
  if (concurrency === 1) {
    for (let i = 0; i < ops; i++) await op(i);
  } else {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < ops) await op(next++);
    }));
  }
  return (performance.now() - started) * 1e6 / ops;
}

/** Per variant and kind, ns per op in each measured round. */
type Results = Record<string, Record<string, number[]>>;

async function rounds(
  subjects: Record<string, Record<string, Op>>,
  ops: number,
  concurrency: number,
): Promise<Results> {
  const names = Object.keys(subjects);
  const results: Results = {};
  for (const name of names) {
    results[name] = {};
    for (const kind of Object.keys(subjects[name])) results[name][kind] = [];
  }
  for (let round = 0; round <= ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const kind of Object.keys(subjects[names[0]])) {
      for (const name of order) {
        const ns = await measure(subjects[name][kind], ops, concurrency);
        if (round > 0) results[name][kind].push(ns);
      }
    }
  }
  return results;
}

// ---- 1. get and set against Redis ----

function rawNodeRedis() {
  // The options of cache/backends/redis_node.ts (createMain, baseOptions).
  return createClient({
    socket: {
      host: HOST,
      port: PORT,
      connectTimeout: CONNECTION_TIMEOUT,
      reconnectStrategy: (retries: number) =>
        Math.min(2_000, 50 * 2 ** Math.min(retries, 10)),
    },
    database: 0,
    name: `${SERVICE}raw`,
    disableOfflineQueue: true,
    maintNotifications: "disabled",
    commandOptions: {
      timeout: COMMAND_TIMEOUT,
      rejectInFlight: true,
      typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer },
    },
  });
}

function rawIoRedis(enableAutoPipelining: boolean) {
  // The options of cache/backends/redis_io.ts (clientOptions, and auto-
  // pipelining on its command client).
  return new Redis({
    host: HOST,
    port: PORT,
    db: 0,
    connectionName: `${SERVICE}raw`,
    connectTimeout: CONNECTION_TIMEOUT,
    commandTimeout: COMMAND_TIMEOUT,
    socketTimeout: COMMAND_TIMEOUT + 100,
    disconnectTimeout: 1_000,
    retryStrategy: (attempt: number) =>
      Math.min(2_000, 50 * 2 ** Math.min(attempt - 1, 10)),
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    maintNotifications: "disabled",
    lazyConnect: false,
    enableAutoPipelining,
  });
}

const asBuffer = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

async function redisSection() {
  const node = rawNodeRedis();
  node.on("error", () => {});
  await node.connect();
  const io = rawIoRedis(true);
  const ioSerial = rawIoRedis(false);
  for (const client of [io, ioSerial]) {
    client.on("error", () => {});
    if (client.status !== "ready") {
      await new Promise((resolve) => client.once("ready", resolve));
    }
  }
  const cqiNode = createCache(URL, { service: { name: SERVICE } });
  const cqiIo = createCache(URL, {
    service: { name: SERVICE },
    client: "ioredis",
  });
  await Promise.all([cqiNode.check(), cqiIo.check()]);

  const rawKeys = Array.from({ length: KEYS }, (_, i) => `${SERVICE}:raw:${i}`);
  const nodeKeys = Array.from(
    { length: KEYS },
    (_, i) => cqiNode.key("asset", "node", i),
  );
  const ioKeys = Array.from(
    { length: KEYS },
    (_, i) => cqiIo.key("asset", "io", i),
  );
  for (let i = 0; i < KEYS; i++) {
    await node.set(rawKeys[i], asBuffer(toBinary(AssetSchema, asset)), {
      expiration: { type: "PX", value: TTL },
    });
    await cqiNode.set(nodeKeys[i], AssetSchema, asset, { ttl: TTL });
    await cqiIo.set(ioKeys[i], AssetSchema, asset, { ttl: TTL });
  }

  const subjects: Record<string, Record<string, Op>> = {
    "node-redis (raw)": {
      get: async (i) => {
        const value = await node.get(rawKeys[i % KEYS]) as Buffer | null;
        if (value === null) throw new Error("raw get: missing");
        return fromBinary(AssetSchema, value);
      },
      set: (i) =>
        node.set(rawKeys[i % KEYS], asBuffer(toBinary(AssetSchema, asset)), {
          expiration: { type: "PX", value: TTL },
        }),
    },
    "CQI, node-redis": {
      get: (i) => cqiNode.get(nodeKeys[i % KEYS], AssetSchema),
      set: (i) =>
        cqiNode.set(nodeKeys[i % KEYS], AssetSchema, asset, { ttl: TTL }),
    },
    "ioredis (raw)": {
      get: async (i) => {
        const value = await io.getBuffer(rawKeys[i % KEYS]);
        if (value === null) throw new Error("raw get: missing");
        return fromBinary(AssetSchema, value);
      },
      set: (i) =>
        io.set(
          rawKeys[i % KEYS],
          asBuffer(toBinary(AssetSchema, asset)),
          "PX",
          TTL,
        ),
    },
    "CQI, ioredis": {
      get: (i) => cqiIo.get(ioKeys[i % KEYS], AssetSchema),
      set: (i) => cqiIo.set(ioKeys[i % KEYS], AssetSchema, asset, { ttl: TTL }),
    },
    "ioredis (raw), no auto-pipelining": {
      get: async (i) => {
        const value = await ioSerial.getBuffer(rawKeys[i % KEYS]);
        if (value === null) throw new Error("raw get: missing");
        return fromBinary(AssetSchema, value);
      },
      set: (i) =>
        ioSerial.set(
          rawKeys[i % KEYS],
          asBuffer(toBinary(AssetSchema, asset)),
          "PX",
          TTL,
        ),
    },
  };
  const baseline: Record<string, string> = {
    "CQI, node-redis": "node-redis (raw)",
    "CQI, ioredis": "ioredis (raw)",
    "ioredis (raw), no auto-pipelining": "ioredis (raw)",
  };

  console.log(
    `\n### get and set of a ${ASSET_BYTES}-byte Asset on Redis (${runtime})\n`,
  );
  console.log(
    "| runtime | callers | variant | get µs/op | get time vs raw | set µs/op | set time vs raw |",
  );
  console.log("| --- | ---: | --- | ---: | ---: | ---: | ---: |");
  for (const concurrency of [1, 32]) {
    // 32 callers finish a round 3-4× sooner: give them 4× the operations.
    const results = await rounds(
      subjects,
      concurrency === 1 ? OPS : 4 * OPS,
      concurrency,
    );
    for (const name of Object.keys(subjects)) {
      const base = baseline[name];
      const cqi = name.startsWith("CQI");
      const row = [runtime, String(concurrency), cqi ? `**${name}**` : name];
      for (const kind of ["get", "set"]) {
        row.push(
          spread(results[name][kind], 1_000, 1),
          base ? ratio(results[name][kind], results[base][kind], cqi) : "1.00×",
        );
      }
      console.log(`| ${row.join(" | ")} |`);
    }
  }

  await cleanup(io);
  await Promise.all([cqiNode.close(), cqiIo.close()]);
  node.destroy();
  await Promise.all([io.quit(), ioSerial.quit()]);
}

/** Deletes every key of this run. */
async function cleanup(io: Redis) {
  let cursor = "0";
  do {
    const [next, keys] = await io.scan(
      cursor,
      "MATCH",
      `${SERVICE}:*`,
      "COUNT",
      1_000,
    );
    cursor = next;
    if (keys.length > 0) await io.del(...keys);
  } while (cursor !== "0");
}

// ---- 2 and 3. getOrLoad against bentocache ----

function bento(serialize: boolean) {
  const driver = serialize
    ? memoryDriver({ maxItems: 10_000, maxSize: 64 * 1024 * 1024 })
    : memoryDriver({ maxItems: 10_000, serialize: false });
  return new BentoCache({
    default: "l1",
    stores: { l1: bentostore().useL1Layer(driver) },
  });
}

async function getOrLoadSections() {
  const hitKeys = Array.from({ length: 100 }, (_, i) => `${SERVICE}:hit:${i}`);
  const load = () => plain;
  const loadAsset = () => asset;
  const options = { ttl: TTL };
  const bentoDefault = bento(true);
  const bentoRaw = bento(false);
  const memory = createCache("memory://", { service: { name: SERVICE } });
  const l1 = createCache(URL, { service: { name: SERVICE }, l1: true });
  await l1.check();
  const map = new Map(hitKeys.map((key) => [key, plain]));

  // L1 fills once the invalidation channel is subscribed: load until every
  // key is an L1 hit.
  const fromL1 = (cache: Cache, key: string) =>
    (cache as unknown as { fromL1(key: string): unknown }).fromL1(key) !==
      undefined;
  const assetKey = (key: string) => `${key}:asset`;
  const filled = () =>
    hitKeys.every((key) => fromL1(l1, key) && fromL1(l1, assetKey(key)));
  for (let tries = 0; !filled(); tries++) {
    if (tries === 100) throw new Error("L1 never filled");
    for (const key of hitKeys) {
      await l1.getOrLoad(key, Plain, load, options);
      await l1.getOrLoad(assetKey(key), AssetSchema, loadAsset, options);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const at = (i: number) => hitKeys[i % hitKeys.length];
  const hits: Record<string, Record<string, Op>> = {
    "`Map.get`, awaited": { hit: (i) => Promise.resolve(map.get(at(i))) },
    "bentocache, `serialize: true` (default)": {
      hit: (i) =>
        bentoDefault.getOrSet({ key: at(i), factory: load, ttl: TTL }),
    },
    "bentocache, `serialize: false`": {
      hit: (i) => bentoRaw.getOrSet({ key: at(i), factory: load, ttl: TTL }),
    },
    "CQI `memory://`, json": {
      hit: (i) => memory.getOrLoad(at(i), Plain, load, options),
    },
    "CQI Redis + L1, json": {
      hit: (i) => l1.getOrLoad(at(i), Plain, load, options),
    },
    "CQI `memory://`, Asset": {
      hit: (i) =>
        memory.getOrLoad(assetKey(at(i)), AssetSchema, loadAsset, options),
    },
    "CQI Redis + L1, Asset": {
      hit: (i) =>
        l1.getOrLoad(assetKey(at(i)), AssetSchema, loadAsset, options),
    },
  };
  const hitResults = await rounds(hits, HITS, 1);
  if (!filled()) throw new Error("L1 lost entries during the run");
  const hitBase = "bentocache, `serialize: true` (default)";
  console.log(`\n### getOrLoad, L1 hit (${runtime}, 1 caller)\n`);
  console.log("| runtime | variant | ns/op | time vs bentocache default |");
  console.log("| --- | --- | ---: | ---: |");
  for (const name of Object.keys(hits)) {
    const cqi = name.startsWith("CQI");
    console.log(
      `| ${runtime} | ${cqi ? `**${name}**` : name} | ${
        spread(hitResults[name].hit, 1, 0)
      } | ${
        name === hitBase
          ? "1.00×"
          : ratio(hitResults[name].hit, hitResults[hitBase].hit, cqi)
      } |`,
    );
  }

  let next = 0;
  const fresh = () => `${SERVICE}:miss:${next++}`;
  const misses: Record<string, Record<string, Op>> = {
    "bentocache, `serialize: true` (default)": {
      miss: () =>
        bentoDefault.getOrSet({ key: fresh(), factory: load, ttl: TTL }),
    },
    "bentocache, `serialize: false`": {
      miss: () => bentoRaw.getOrSet({ key: fresh(), factory: load, ttl: TTL }),
    },
    "CQI `memory://`, json": {
      miss: () => memory.getOrLoad(fresh(), Plain, load, options),
    },
    "CQI `memory://`, Asset": {
      miss: () => memory.getOrLoad(fresh(), AssetSchema, loadAsset, options),
    },
  };
  const missResults = await rounds(misses, MISSES, 1);
  const missBase = "bentocache, `serialize: true` (default)";
  console.log(`\n### getOrLoad, miss (${runtime}, 1 caller)\n`);
  console.log("| runtime | variant | µs/op | time vs bentocache default |");
  console.log("| --- | --- | ---: | ---: |");
  for (const name of Object.keys(misses)) {
    const cqi = name.startsWith("CQI");
    console.log(
      `| ${runtime} | ${cqi ? `**${name}**` : name} | ${
        spread(missResults[name].miss, 1_000, 2)
      } | ${
        name === missBase
          ? "1.00×"
          : ratio(missResults[name].miss, missResults[missBase].miss, cqi)
      } |`,
    );
  }

  await l1.delete(hitKeys.flatMap((key) => [key, assetKey(key)]));
  await Promise.all([
    memory.close(),
    l1.close(),
    bentoDefault.disconnect(),
    bentoRaw.disconnect(),
  ]);
}

const started = performance.now();
await redisSection();
await getOrLoadSections();
console.error(
  `\n(${runtime}: ${((performance.now() - started) / 1000).toFixed(1)} s)`,
);
