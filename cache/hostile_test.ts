// Regressions found by attacking the cache (each failed before its fix), on
// memory and on the machine's Redis with an L1.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Cache, type CacheOptions, createCache } from "@cqi/cache";
import { bytes, json } from "@cqi/codec";
import { CqiError, kindOf, notFound, temporary } from "@cqi/errors";
import { fakeClock } from "../tests/contract/cache.ts";
import {
  REDIS_URL,
  redisCommand,
  redisReachable,
} from "./testdata/redis_server.ts";
import { commandCounter, heldInL1 } from "./testdata/l1.ts";

const Note = json<{ text: string }>();
const reachable = await redisReachable();
if (!reachable && process.env.CI === "true") {
  throw new Error(
    `Redis at ${REDIS_URL} is not reachable, and CI=true requires it`,
  );
}

const backends: [string, (options?: CacheOptions) => Cache][] = [
  ["memory", (options) => createCache("memory://", options)],
  ...reachable
    ? [
      ["redis with l1", (options?: CacheOptions) =>
        createCache(REDIS_URL, { l1: true, ...options })] as [
          string,
          (options?: CacheOptions) => Cache,
        ],
    ]
    : [],
];

for (const [name, open] of backends) {
  describe(`cache attacked: ${name}`, () => {
    const id = () => crypto.randomUUID();

    it("callers never share, nor change, what the cache holds", async () => {
      await using cache = open();
      const key = cache.key("alias", id());
      const [a, b] = await Promise.all([
        cache.getOrLoad(key, bytes, () => new Uint8Array([1, 2, 3]), {
          ttl: 60_000,
        }),
        cache.getOrLoad(key, bytes, () => new Uint8Array([1, 2, 3]), {
          ttl: 60_000,
        }),
      ]);
      assert.notEqual(a, b);
      a[0] = 99;
      assert.equal(b[0], 1);
      assert.deepEqual(await cache.get(key, bytes), new Uint8Array([1, 2, 3]));
      const hit = await cache.get(key, bytes);
      hit[1] = 99;
      assert.deepEqual(await cache.get(key, bytes), new Uint8Array([1, 2, 3]));
      await cache.delete(key);
    });

    it("hooks that throw change nothing the cache does", async () => {
      await using cache = open({
        onEvent: () => {
          throw new Error("observer bug");
        },
        onCommand: async (_info, run) => {
          const result = await run();
          throw new Error(`observer bug after ${typeof result}`);
        },
      });
      const key = cache.key("hooks", id());
      await cache.set(key, Note, { text: "x" }, { ttl: 60_000 });
      assert.deepEqual(await cache.get(key, Note), { text: "x" });
      assert.deepEqual(
        await cache.getOrLoad(
          cache.key("hooks", id()),
          Note,
          () => ({ text: "y" }),
          {
            ttl: 60_000,
          },
        ),
        { text: "y" },
      );
      await cache.delete(key);
    });

    it("a hook that never runs the command fails the call with a TypeError", async () => {
      await using cache = open({ onCommand: () => Promise.resolve("skipped") });
      await assert.rejects(
        cache.find(cache.key("hooks", id()), Note),
        TypeError,
      );
    });

    it("an aborted set sends nothing", async () => {
      await using cache = open();
      const key = cache.key("abort", id());
      await assert.rejects(
        cache.set(key, Note, { text: "x" }, {
          ttl: 60_000,
          signal: AbortSignal.abort(),
        }),
        (error) => kindOf(error) === "canceled",
      );
      assert.equal(await cache.exists(key), false);
    });

    it("ttl Infinity with grace loads once, not on every hit", async () => {
      await using cache = open();
      const key = cache.key("forever", id());
      let loads = 0;
      for (let i = 0; i < 20; i++) {
        await cache.getOrLoad(key, Note, () => (loads++, { text: "x" }), {
          ttl: Infinity,
          grace: 60_000,
        });
      }
      await cache.delete(key); // an entry for ever must not outlive the test
      await cache.close(); // a refresh would have been waited for
      assert.equal(loads, 1);
    });

    it("an entry that stopped decoding is reloaded once for all callers, and from L1 too", async () => {
      await using cache = open();
      const key = cache.key("schema", id());
      await cache.set(key, bytes, new Uint8Array([0xff]), { ttl: 60_000 });
      await cache.get(key, bytes); // in L1 now, where there is one
      let loads = 0;
      const values = await Promise.all(
        Array.from(
          { length: 100 },
          () =>
            cache.getOrLoad(key, Note, () => (loads++, { text: "new" }), {
              ttl: 60_000,
            }),
        ),
      );
      assert.equal(loads, 1);
      assert.ok(values.every((v) => v.text === "new"));
      await cache.delete(key);
    });

    it("a value its own schema refuses is neither stored nor returned", async () => {
      await using cache = open();
      const Strict = json(
        {
          "~standard": {
            version: 1,
            vendor: "test",
            validate: (v: unknown) =>
              (v as { ok?: boolean })?.ok === true
                ? { value: v as { ok: true } }
                : { issues: [{ message: "not ok" }] },
          },
        } as const,
      );
      const key = cache.key("strict", id());
      await assert.rejects(
        cache.getOrLoad(key, Strict, () => ({ ok: false }) as never, {
          ttl: 60_000,
        }),
        (error) => kindOf(error) === "invalid_input",
      );
      assert.equal(await cache.exists(key), false);
    });

    it("a delete while a load runs wins over the load", async () => {
      await using cache = open();
      const key = cache.key("race", id());
      let finish!: () => void;
      let started!: () => void;
      const running = new Promise<void>((resolve) => started = resolve);
      const loading = cache.getOrLoad(key, Note, async () => {
        started();
        await new Promise<void>((resolve) => finish = resolve);
        return { text: "old-from-db" };
      }, { ttl: 60_000 });
      await running;
      await cache.set(key, Note, { text: "new" }, { ttl: 60_000 });
      finish();
      assert.deepEqual(await loading, { text: "old-from-db" });
      assert.deepEqual(await cache.get(key, Note), { text: "new" });
      await cache.delete(key);
    });

    it("a loader that never settles: close() stops waiting and its callers reject temporary", async () => {
      const cache = open({ closeTimeout: 50 });
      let started!: () => void;
      const running = new Promise<void>((resolve) => started = resolve);
      const hanging = cache.getOrLoad(cache.key("hang", id()), Note, () => {
        started();
        return new Promise<never>(() => {});
      }, { ttl: 60_000 });
      const outcome = hanging.then(() => "resolved", (error) => kindOf(error));
      await running;
      await cache.close();
      assert.equal(await outcome, "temporary");
    });

    it("a not_found ends grace, and a remembered message is bounded", async () => {
      const clock = fakeClock();
      await using cache = open({ clock });
      const key = cache.key("gone", id());
      const options = { ttl: 1_000, grace: 60_000 };
      await cache.getOrLoad(key, Note, () => ({ text: "row" }), options);
      clock.advance(2_000);
      await assert.rejects(
        cache.getOrLoad(key, Note, () => {
          throw notFound("row", key);
        }, options),
        (error) => kindOf(error) === "not_found",
      );
      assert.equal(await cache.exists(key), false);
      const long = cache.key("gone", id());
      const error = await cache.getOrLoad(long, Note, () => {
        throw new CqiError("not_found", "x".repeat(5_000));
      }, { ...options, negativeTtl: 10_000 }).catch((e) => e);
      assert.equal(kindOf(error), "not_found");
      const again = await cache.getOrLoad(long, Note, () => ({ text: "?" }), {
        ...options,
        negativeTtl: 10_000,
      }).catch((e) => e);
      assert.equal(kindOf(again), "not_found");
      assert.ok(again.message.length <= 1_024);
      await cache.delete([key, long]);
    });

    it("a loader throwing a non-Error reaches the caller as a CqiError", async () => {
      await using cache = open();
      for (const thrown of ["text", undefined, null, 42]) {
        const error = await cache.getOrLoad(
          cache.key("odd", id()),
          Note,
          () => {
            throw thrown;
          },
          { ttl: 60_000 },
        ).catch((e) => e);
        assert.ok(error instanceof CqiError, String(error));
      }
    });
  });
}

describe("cache attacked: memory only", () => {
  it("setMany stores nothing when one value is too large", async () => {
    await using cache = createCache("memory://", { maxBytes: 1_000 });
    await assert.rejects(
      cache.setMany(
        [
          { key: "small", value: new Uint8Array(10) },
          { key: "large", value: new Uint8Array(2_000) },
        ],
        bytes,
        { ttl: 60_000 },
      ),
      (error) => kindOf(error) === "too_large",
    );
    assert.equal(await cache.exists("small"), false);
  });
});

describe("cache attacked: redis only", { skip: !reachable }, () => {
  it("close() sends the last invalidation before closing", async () => {
    await using a = createCache(REDIS_URL, { l1: true });
    const key = a.key("closing", crypto.randomUUID());
    await a.set(key, Note, { text: "old" }, { ttl: 60_000 });
    // c keeps it in L1 once its subscription holds.
    const counter = commandCounter();
    await using c = createCache(REDIS_URL, { l1: true, ...counter.hooks });
    await heldInL1(c, key, counter.count);
    const writer = createCache(REDIS_URL, { l1: true });
    await writer.set(key, Note, { text: "new" }, { ttl: 60_000 });
    await writer.close();
    const giveUp = performance.now() + 2_000;
    while ((await c.get(key, Note)).text !== "new") {
      assert.ok(performance.now() < giveUp, "c never saw the write");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await a.delete(key);
  });

  it("a config password with % in it works", async (t) => {
    const { privateRedis, requireRedisServer } = await import(
      "./testdata/redis_server.ts"
    );
    if (!await requireRedisServer(t)) return;
    const password = "p%41ss 100%";
    await using server = await privateRedis({ password });
    const { Secret } = await import("@cqi/config");
    for (const client of ["ioredis", "node-redis"] as const) {
      await using cache = createCache({
        host: "127.0.0.1",
        port: server.port,
        password: new Secret(password),
        database: 0,
        connectionTimeout: 2_000,
        readTimeout: 2_000,
        writeTimeout: 2_000,
        poolSize: 1,
        minIdleConnections: 0,
      }, { client });
      await cache.check();
      await assert.rejects(
        cache.get("absent", Note),
        (e) => kindOf(e) === "not_found",
      );
    }
  });
});

it("temporary is what a closed cache says", async () => {
  const cache = createCache();
  await cache.close();
  await assert.rejects(cache.find("k", Note), (e) => kindOf(e) === "temporary");
  assert.equal(kindOf(temporary("x")), "temporary");
});

describe("cache attacked, second round", () => {
  it("a write during a refresh wins, even when another load ends first", {
    skip: !reachable,
  }, async () => {
    const clock = fakeClock();
    const cache = createCache(REDIS_URL, { clock });
    const key = cache.key("refresh", crypto.randomUUID());
    const options = { ttl: 10_000, grace: 60_000 };
    await cache.getOrLoad(key, Note, () => ({ text: "v1" }), options);
    clock.advance(9_500); // the last tenth: a hit refreshes in the background
    let finish!: () => void;
    let started!: () => void;
    const running = new Promise<void>((resolve) => started = resolve);
    await cache.getOrLoad(key, Note, async () => {
      started();
      await new Promise<void>((resolve) => finish = resolve);
      return { text: "old-from-db" };
    }, options);
    await running;
    await cache.set(key, Note, { text: "new" }, { ttl: 60_000 });
    await cache.delete(key); // a load starts and ends meanwhile:
    // (the refresh holds the lock: wait for it briefly, then load anyway)
    await cache.getOrLoad(key, Note, () => ({ text: "reloaded" }), {
      ...options,
      lockTimeout: 50,
    });
    finish();
    await cache.close(); // waits for the refresh, and its unlock
    await using reader = createCache(REDIS_URL, { clock });
    assert.deepEqual(await reader.get(key, Note), { text: "reloaded" });
    await reader.delete(key);
  });

  it("close() waits for a write already sent, and releases a lock it held", {
    skip: !reachable,
  }, async () => {
    const cache = createCache(REDIS_URL);
    const key = cache.key("closing", crypto.randomUUID());
    let started!: () => void;
    const running = new Promise<void>((resolve) => started = resolve);
    const loading = cache.getOrLoad(key, Note, async () => {
      started();
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { text: "loaded" };
    }, { ttl: 60_000 });
    await running;
    const writing = cache.set(cache.key("closing", "w", key), Note, {
      text: "w",
    }, {
      ttl: 60_000,
    });
    await cache.close();
    assert.deepEqual(await loading, { text: "loaded" });
    await writing;
    await using other = createCache(REDIS_URL);
    const started2 = performance.now();
    let loads = 0;
    await other.getOrLoad(key, Note, () => (loads++, { text: "x" }), {
      ttl: 60_000,
    });
    assert.equal(loads, 0, "the stored value is read, no lock in the way");
    assert.ok(performance.now() - started2 < 1_000);
    assert.equal(
      await redisCommand(REDIS_URL, "EXISTS", `${key}:%lock`),
      0,
      "the lock is released",
    );
    await other.delete([key, cache.key("closing", "w", key)]);
  });

  it("a codec that only says JSON still gets copies to decode", async () => {
    const passthrough = {
      name: "raw json",
      contentType: "application/json",
      encode: (value: Uint8Array) => value,
      decode: (stored: Uint8Array) => stored,
    };
    await using cache = createCache("memory://");
    await cache.set("k", passthrough, new Uint8Array([1]), { ttl: 60_000 });
    (await cache.get("k", passthrough))[0] = 9;
    assert.deepEqual(await cache.get("k", passthrough), new Uint8Array([1]));
  });

  it("a hook that runs the command after it returned runs nothing", async () => {
    let late!: () => Promise<unknown>;
    await using cache = createCache("memory://", {
      onCommand: (_info, run) => {
        late = run;
        return Promise.resolve();
      },
    });
    const key = cache.key("late", crypto.randomUUID());
    await assert.rejects(
      cache.set(key, Note, { text: "x" }, { ttl: 60_000 }),
      TypeError,
    );
    await assert.rejects(late(), TypeError);
    assert.equal(await cache.find(key, Note).catch(() => "refused"), "refused");
  });

  it("refuses options it would otherwise ignore or misread", () => {
    const section = (host: string) => ({
      host,
      port: 6379,
      database: 0,
      connectionTimeout: 1_000,
      readTimeout: 1_000,
      writeTimeout: 1_000,
      poolSize: 1,
      minIdleConnections: 0,
    });
    for (const host of ["redis host", "cache.internal:6380x", "", "a/b"]) {
      assert.throws(() => createCache(section(host)), TypeError, host);
    }
    for (
      const options of [
        { l1: "no" },
        { l1: 0.5 },
        { maxEntries: -5 },
        { client: "other" },
      ]
    ) {
      assert.throws(
        () => createCache("memory://", options as never),
        TypeError,
      );
    }
    createCache("memory://", { closeTimeout: 0 }).close();
  });
});
