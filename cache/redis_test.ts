// Redis behaviour beyond the contract: TTLs as Redis holds them, the L1 tier
// kept coherent across instances, one load across processes, and an outage
// of a server of the test's own. Each runs with both client libraries.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CacheEvent, createCache } from "@cqi/cache";
import { json } from "@cqi/codec";
import { kindOf, temporary } from "@cqi/errors";
import { fakeClock } from "../tests/contract/cache.ts";
import { runtime, spawnScript } from "../tests/_util.ts";
import {
  privateRedis,
  REDIS_URL,
  redisCommand,
  requireRedis,
  requireRedisServer,
} from "./testdata/redis_server.ts";
import { heldInL1 } from "./testdata/l1.ts";

const Note = json<{ text: string }>();
const clients = ["node-redis", "ioredis"] as const;

/** Polls `probe` every 10 ms until it returns true, for at most `ms`. */
async function eventually(
  probe: () => Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const giveUp = performance.now() + ms;
  while (!(await probe().catch(() => false))) {
    if (performance.now() > giveUp) assert.fail(`${what} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

for (const client of clients) {
  describe(`cache on redis (${client})`, () => {
    it("stores TTL + grace in Redis; Infinity never expires; jitter only shortens", async (t) => {
      if (!await requireRedis(t)) return;
      await using cache = createCache(REDIS_URL, { client, jitter: 0.5 });
      const key = cache.key("ttl", crypto.randomUUID());
      await cache.getOrLoad(key, Note, () => ({ text: "x" }), {
        ttl: 10_000,
        grace: 100_000,
      });
      const pttl = Number(await redisCommand(REDIS_URL, "PTTL", key));
      assert.ok(pttl > 100_000 && pttl <= 110_000, `PTTL ${pttl}`);
      const ttls: number[] = [];
      for (let i = 0; i < 20; i++) {
        await cache.set(`${key}:${i}`, Note, { text: "" }, { ttl: 100_000 });
        ttls.push(Number(await redisCommand(REDIS_URL, "PTTL", `${key}:${i}`)));
      }
      assert.ok(ttls.every((ttl) => ttl > 49_000 && ttl <= 100_000), `${ttls}`);
      assert.ok(new Set(ttls).size > 1);
      await cache.set(`${key}:forever`, Note, { text: "" }, { ttl: Infinity });
      assert.equal(await redisCommand(REDIS_URL, "PTTL", `${key}:forever`), -1);
      await cache.delete([
        key,
        `${key}:forever`,
        ...ttls.map((_, i) => `${key}:${i}`),
      ]);
    });

    it("L1 answers repeated reads without Redis, and a set on one instance invalidates another's", async (t) => {
      if (!await requireRedis(t)) return;
      let commandsB = 0;
      const eventsB: CacheEvent[] = [];
      await using a = createCache(REDIS_URL, { client, l1: true });
      await using b = createCache(REDIS_URL, {
        client,
        l1: true,
        onCommand: (_info, run) => (commandsB++, run()),
        onEvent: (event) => eventsB.push(event),
      });
      const key = a.key("l1", crypto.randomUUID());
      await a.set(key, Note, { text: "v1" }, { ttl: 60_000 });
      // b's subscription is up once a published invalidation reaches it:
      // keep writing until b's L1 drops a value it holds.
      await heldInL1(b, key, () => commandsB);
      const before = commandsB;
      for (let i = 0; i < 10; i++) {
        assert.deepEqual(await b.get(key, Note), { text: "v1" });
      }
      assert.equal(commandsB, before, "L1 hits send no command");
      assert.ok(eventsB.some((e) => e.type === "hit" && e.tier === "l1"));
      await a.set(key, Note, { text: "v2" }, { ttl: 60_000 });
      await eventually(
        async () => (await b.get(key, Note)).text === "v2",
        2_000,
        "b to see a's set",
      );
      await a.delete(key);
      await eventually(
        async () => (await b.find(key, Note)) === undefined,
        2_000,
        "b to see a's delete",
      );
    });

    it("N processes, 200 concurrent misses each: one load in all", {
      timeout: 60_000,
    }, async (t) => {
      if (!await requireRedis(t)) return;
      const key = `cqi-test:stampede:${crypto.randomUUID()}`;
      const children = [0, 1, 2].map(() =>
        spawnScript(new URL("./testdata/stampede.ts", import.meta.url), {
          env: { REDIS_URL, STAMPEDE_KEY: key, REDIS_CLIENT: client },
        })
      );
      try {
        await Promise.all(
          children.map((c) => c.line((l) => l === "ready", 30_000)),
        );
        await redisCommand(REDIS_URL, "SET", `${key}:go`, "1", "PX", "60000");
        const done = await Promise.all(
          children.map((c) => c.line((l) => l.startsWith("done"), 30_000)),
        );
        assert.equal(await redisCommand(REDIS_URL, "GET", `${key}:loads`), "1");
        assert.deepEqual(done, ["done 1", "done 1", "done 1"]);
        for (const child of children) assert.equal(await child.exited, 0);
      } finally {
        for (const child of children) child.signal("SIGKILL");
        await redisCommand(REDIS_URL, "DEL", key, `${key}:go`, `${key}:loads`);
      }
    });

    it(
      "an outage: no call hangs, getOrLoad loads or serves grace, the same client recovers, L1 invalidation survives",
      {
        timeout: 60_000,
      },
      async (t) => {
        if (!await requireRedisServer(t)) return;
        await using server = await privateRedis();
        const errors: CacheEvent[] = [];
        let commandsA = 0;
        const options = {
          client,
          commandTimeout: 500,
          connectionTimeout: 500,
          l1: true,
          onEvent: (event: CacheEvent) => {
            if (event.type === "error") errors.push(event);
          },
        };
        const clock = fakeClock();
        await using a = createCache(server.url, {
          ...options,
          clock,
          onCommand: (_info, run) => (commandsA++, run()),
        });
        let commandsB = 0;
        await using b = createCache(server.url, {
          ...options,
          clock,
          l1: { ttl: 60_000 },
          onCommand: (_info, run) => (commandsB++, run()),
        });
        const key = a.key("outage", "1");
        await a.set(key, Note, { text: "before" }, { ttl: 60_000 });
        await heldInL1(a, key, () => commandsA);
        const graceKey = a.key("outage", "grace");
        const graceOptions = { ttl: 1_000, grace: 60_000 };
        await a.getOrLoad(
          graceKey,
          Note,
          () => ({ text: "graced" }),
          graceOptions,
        );
        // b, a reader, keeps what it read in L1 (grace included).
        await heldInL1(b, graceKey, () => commandsB);

        // Load: 8 callers in a loop, each call timed.
        let running = true;
        const slowest = { ms: 0 };
        const failures: unknown[] = [];
        const worker = async () => {
          while (running) {
            const started = performance.now();
            await a.find(a.key("outage", "absent"), Note).catch((error) =>
              failures.push(error)
            );
            slowest.ms = Math.max(slowest.ms, performance.now() - started);
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        };
        const workers = Array.from({ length: 8 }, worker);
        await eventually(() => Promise.resolve(slowest.ms > 0), 2_000, "load");

        await server.kill();
        await eventually(
          () => Promise.resolve(failures.length >= 20),
          5_000,
          "failures",
        );
        for (const failure of failures) {
          assert.equal(kindOf(failure), "temporary");
        }

        // While down: what a's L1 holds is still served; other gets fail
        // fast; getOrLoad calls the loader (counted).
        assert.deepEqual(await a.get(key, Note), { text: "before" });
        let started = performance.now();
        await assert.rejects(
          a.get(a.key("outage", "2"), Note),
          (e) => kindOf(e) === "temporary",
        );
        assert.ok(
          performance.now() - started < 600,
          "get failed within the timeout",
        );
        let loads = 0;
        started = performance.now();
        const loaded = await a.getOrLoad(a.key("outage", "3"), Note, () => {
          loads++;
          return { text: "from the loader" };
        }, { ttl: 60_000 });
        assert.deepEqual(loaded, { text: "from the loader" });
        assert.equal(loads, 1);
        assert.ok(performance.now() - started < 2_000);
        assert.ok(errors.some((e) => e.operation === "get"));
        clock.advance(2_000);
        const graced = await a.getOrLoad(graceKey, Note, () => {
          throw temporary("the source is down too");
        }, graceOptions);
        assert.deepEqual(graced, { text: "graced" });
        const gracedB = await b.getOrLoad(graceKey, Note, () => {
          throw temporary("the source is down too");
        }, graceOptions);
        assert.deepEqual(gracedB, { text: "graced" });

        await server.start();
        await eventually(
          async () => (await a.check(), true),
          10_000,
          "a to reconnect",
        );
        running = false;
        await Promise.all(workers);
        assert.ok(slowest.ms < 1_500, `slowest call ${slowest.ms} ms`);

        // The same clients work again, and invalidation reaches b's L1.
        await a.set(key, Note, { text: "after" }, { ttl: 60_000 });
        await eventually(
          async () => {
            await b.find(key, Note); // fills b's L1 once its subscription is back
            const want = `after-${Math.random()}`;
            await a.set(key, Note, { text: want }, { ttl: 60_000 });
            // The invalidation reaches b on a socket of its own: give it a
            // moment (an L1 hit answers without reading that socket).
            for (let i = 0; i < 20; i++) {
              if ((await b.get(key, Note)).text === want) return true;
              await new Promise((resolve) => setTimeout(resolve, 10));
            }
            return false;
          },
          10_000,
          "b's L1 to follow a's writes after the restart",
        );
        const last = { text: "final" };
        await a.set(key, Note, last, { ttl: 60_000 });
        await eventually(
          async () => (await b.get(key, Note)).text === "final",
          2_000,
          "b to see the last write",
        );
      },
    );
  });
}

it("runs on " + runtime, () => assert.ok(runtime));
