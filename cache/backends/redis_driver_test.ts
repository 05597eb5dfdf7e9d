// One battery for every RedisDriver (node-redis and ioredis), on Deno and on
// Bun: byte-exact round trips on the shared server; on private servers of
// the test's own, a SIGKILL under load, a restart on the same port, a server
// that stops answering, a refused connection and a wrong password; and a
// child process that must exit by itself after using a driver.
import assert from "node:assert/strict";
import { once } from "node:events";
import { rm, writeFile } from "node:fs/promises";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { inspect } from "node:util";
import { CqiError } from "@cqi/errors";
import { withTimeout } from "@cqi/retry";
import type { RedisDriver, RedisEntry } from "./redis_driver.ts";
import { nodeRedisDriver } from "./redis_node.ts";
import { ioRedisDriver } from "./redis_io.ts";
import { closedPort, runtime, spawnScript } from "../../tests/_util.ts";
import {
  type PrivateRedis,
  privateRedis,
  REDIS_URL,
  redisCommand,
  requireRedis,
  requireRedisServer,
} from "../testdata/redis_server.ts";

const CLIENTS = [
  { client: "node-redis", file: "redis_node.ts", create: nodeRedisDriver },
  { client: "ioredis", file: "redis_io.ts", create: ioRedisDriver },
] as const;

/**
 * Client defects that fail a test on one runtime: the test is skipped for
 * that client on that runtime only, saying why. None is known with the
 * drivers' workarounds (node-redis 6.4, ioredis 6.1; Deno 2.9, Bun 1.4).
 */
const KNOWN_DEFECTS: {
  client: string;
  runtime: "deno" | "bun";
  test: string;
  reason: string;
}[] = [];

const RUN = crypto.randomUUID().slice(0, 8);
const PREFIX = `cqi-test:redis-driver:${RUN}:`;
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

type Test = { skip(message?: string): void };

for (const { client, file, create } of CLIENTS) {
  describe(`${client} driver`, () => {
    const keys = new Set<string>();
    const key = (name: string) => {
      const k = `${PREFIX}${client}:${name}`;
      keys.add(k);
      return k;
    };
    // A test with a driver on the shared server (where it runs).
    function onSharedServer(
      name: string,
      body: (driver: RedisDriver) => Promise<void>,
    ): void {
      it(name, async (t) => {
        if (!await requireRedis(t)) return;
        await using driver = disposable(create({
          url: REDIS_URL,
          connectionTimeout: 2_000,
          commandTimeout: 2_000,
        }));
        await body(driver);
      });
    }

    after(async () => {
      if (keys.size === 0) return;
      await redisCommand(REDIS_URL, "DEL", ...keys).catch(() => {});
    });

    // Skips a test this client is known to fail on this runtime.
    function knownDefect(t: Test, test: string): boolean {
      const defect = KNOWN_DEFECTS.find((d) =>
        d.client === client && d.runtime === runtime && d.test === test
      );
      if (!defect) return false;
      const reason = `${client} on ${runtime}: ${defect.reason}`;
      console.warn(`skipped: ${reason}`);
      t.skip(reason);
      return true;
    }

    // A test on a private server of its own (where redis-server is
    // installed), unless this client is known to fail it on this runtime.
    function onPrivateServer(
      name: string,
      options: { defect?: string; password?: string },
      body: (server: PrivateRedis) => Promise<void>,
    ): void {
      it(name, { timeout: 30_000 }, async (t) => {
        if (options.defect && knownDefect(t, options.defect)) return;
        if (!await requireRedisServer(t)) return;
        await using server = await privateRedis({ password: options.password });
        await body(server);
      });
    }

    describe("on the shared server", () => {
      onSharedServer(
        "round-trips bytes: every byte value, empty, a view",
        async (driver) => {
          const backing = Uint8Array.from([9, 9, 1, 2, 3, 9]);
          const entries: RedisEntry[] = [
            { key: key("all"), value: ALL_BYTES, ttl: 60_000 },
            { key: key("empty"), value: new Uint8Array(0), ttl: 60_000 },
            // only the view's bytes are written
            { key: key("view"), value: backing.subarray(2, 5), ttl: Infinity },
          ];
          await driver.setMany(entries);
          const values = await driver.getMany([
            key("all"),
            key("empty"),
            key("missing"),
            key("view"),
          ]);
          assert.deepEqual(values, [
            ALL_BYTES,
            new Uint8Array(0),
            null,
            Uint8Array.from([1, 2, 3]),
          ]);
          for (const value of values) {
            // a plain Uint8Array (a view: the cache copies what it keeps)
            if (value) {
              assert.equal(Object.getPrototypeOf(value), Uint8Array.prototype);
            }
          }
          assert.deepEqual(await driver.getMany([]), []);
          await driver.setMany([]);
        },
      );

      onSharedServer(
        "honours PX, and Infinity is no expiry",
        async (driver) => {
          await driver.setMany([
            { key: key("short"), value: ALL_BYTES, ttl: 150 },
            { key: key("long"), value: ALL_BYTES, ttl: 3_600_000 },
            { key: key("forever"), value: ALL_BYTES, ttl: Infinity },
            // a fraction of a millisecond rounds up, not to 0
            { key: key("fraction"), value: ALL_BYTES, ttl: 100.4 },
          ]);
          const short = await redisCommand(REDIS_URL, "PTTL", key("short"));
          assert.ok(typeof short === "number" && short > 0 && short <= 150);
          const long = await redisCommand(REDIS_URL, "PTTL", key("long"));
          assert.ok(typeof long === "number" && long > 3_500_000);
          assert.equal(
            await redisCommand(REDIS_URL, "PTTL", key("forever")),
            -1,
          );
          await until(
            async () => await driver.exists([key("short")]) === 0,
            "the 150 ms key expires",
            3_000,
          );
          assert.deepEqual(await driver.getMany([key("short")]), [null]);
          assert.equal(await driver.exists([key("long"), key("forever")]), 2);
          for (const ttl of [0, -5, NaN]) {
            const error = await driver.setMany([
              { key: key("bad"), value: ALL_BYTES, ttl },
            ]).catch((e) => e);
            assertKind(error, "permanent");
          }
        },
      );

      onSharedServer("counts exists and delete", async (driver) => {
        const [a, b, missing] = [key("a"), key("b"), key("nope")];
        await driver.setMany([
          { key: a, value: ALL_BYTES, ttl: 60_000 },
          { key: b, value: ALL_BYTES, ttl: 60_000 },
        ]);
        assert.equal(await driver.exists([a, b, missing]), 2);
        assert.equal(await driver.exists([a, a]), 2); // as EXISTS counts
        assert.equal(await driver.delete([a, b, missing]), 2);
        assert.equal(await driver.exists([a, b]), 0);
        assert.equal(await driver.delete([a]), 0);
        assert.equal(await driver.delete([]), 0);
        assert.equal(await driver.exists([]), 0);
      });

      onSharedServer(
        "setIfAbsent and deleteIfEquals act only for the token",
        async (driver) => {
          const lock = key("lock");
          assert.equal(await driver.setIfAbsent(lock, "token-1", 10_000), true);
          assert.equal(
            await driver.setIfAbsent(lock, "token-2", 10_000),
            false,
          );
          const ttl = await redisCommand(REDIS_URL, "PTTL", lock);
          assert.ok(typeof ttl === "number" && ttl > 0 && ttl <= 10_000);
          assert.equal(await redisCommand(REDIS_URL, "GET", lock), "token-1");
          assert.equal(await driver.deleteIfEquals(lock, "token-2"), false);
          assert.equal(await driver.exists([lock]), 1);
          assert.equal(await driver.deleteIfEquals(lock, "token-1"), true);
          assert.equal(await driver.exists([lock]), 0);
          assert.equal(await driver.deleteIfEquals(lock, "token-1"), false);
        },
      );

      onSharedServer(
        "a server error is permanent and names no key or value",
        async (driver) => {
          const list = key("a-list");
          await redisCommand(REDIS_URL, "RPUSH", list, "x");
          const token = `token-${RUN}`;
          const error = await driver.deleteIfEquals(list, token)
            .catch((e) => e);
          assertKind(error, "permanent");
          assert.match(error.message, /^redis EVAL failed: server replied /);
          assert.ok(!error.message.includes(list));
          // nor does the cause chain, which logs print
          const logged = inspect(error, { depth: 10 });
          assert.ok(!logged.includes(list), logged);
          assert.ok(!logged.includes(token), logged);
        },
      );

      onSharedServer("publishes and subscribes", async (driver) => {
        const channel = `${PREFIX}${client}:channel`;
        const first: string[] = [];
        const second: string[] = [];
        // two callers at once: one SUBSCRIBE, both confirmed
        await Promise.all([
          driver.subscribe(channel, (m) => first.push(m), () => {}),
          driver.subscribe(channel, (m) => second.push(m), () => {}),
        ]);
        const sent = ["one", "", "drei ü ✓", "x".repeat(10_000)];
        for (const message of sent) await driver.publish(channel, message);
        await until(() => second.length === sent.length, "all messages");
        assert.deepEqual(first, sent);
        assert.deepEqual(second, sent);
      });
    });

    describe("on a private server", () => {
      const fast = { connectionTimeout: 500, commandTimeout: 500 };

      onPrivateServer(
        "under load, a killed server fails calls fast; a restart heals",
        { defect: "outage" },
        async (server) => {
          await using driver = disposable(create({ url: server.url, ...fast }));
          const k = key("outage");
          await driver.setMany([{ key: k, value: ALL_BYTES, ttl: Infinity }]);

          type Outcome = {
            phase: string;
            ok: boolean;
            ms: number;
            error?: unknown;
          };
          const outcomes: Outcome[] = [];
          let phase = "before";
          let stop = false;
          const worker = async () => {
            while (!stop) {
              const at = phase;
              const started = performance.now();
              try {
                await settles(driver.getMany([k]), fast.commandTimeout + 2_000);
                outcomes.push({ phase: at, ok: true, ms: elapsed(started) });
              } catch (error) {
                outcomes.push({
                  phase: at,
                  ok: false,
                  ms: elapsed(started),
                  error,
                });
                // a real caller pauses before it retries
                await delay(5);
              }
            }
          };
          const workers = Array.from({ length: 4 }, worker);
          await until(
            () => outcomes.filter((o) => o.ok).length >= 50,
            "calls succeed",
          );
          phase = "outage";
          await server.kill();
          await until(
            () => outcomes.filter((o) => o.phase === "outage").length >= 100,
            "100 calls during the outage",
          );
          phase = "after";
          await server.start();
          const restarted = performance.now();
          await until(
            () => outcomes.some((o) => o.phase === "after" && o.ok),
            "a call succeeds after the restart",
            8_000,
          );
          const healedMs = elapsed(restarted);
          stop = true;
          await Promise.all(workers);

          const outage = outcomes.filter((o) => o.phase === "outage");
          const failed = outage.filter((o) => !o.ok);
          assert.ok(failed.length > 0);
          for (const o of failed) assertKind(o.error, "temporary");
          const slowest = Math.max(...outage.map((o) => o.ms));
          assert.ok(
            slowest <= fast.commandTimeout + 300,
            `slowest call during the outage took ${slowest} ms`,
          );
          // once the client knows, calls fail at once
          const late = failed.slice(Math.floor(failed.length / 2));
          const slowLate = Math.max(...late.map((o) => o.ms));
          assert.ok(slowLate < 100, `a call while down took ${slowLate} ms`);
          assert.ok(healedMs < 5_000, `healed after ${healedMs} ms`);
          // the data went with the server (no persistence): a fresh SET works
          await driver.setMany([{ key: k, value: ALL_BYTES, ttl: 1_000 }]);
          assert.deepEqual(await driver.getMany([k]), [ALL_BYTES]);
        },
      );

      onPrivateServer("a subscription comes back after a restart", {
        defect: "resubscribe",
      }, async (server) => {
        await using driver = disposable(create({ url: server.url, ...fast }));
        const channel = `${PREFIX}${client}:events`;
        const heard = await listen(driver, channel);
        await driver.publish(channel, "before");
        await until(() => heard.messages.includes("before"), "message before");
        for (let round = 1; round <= 2; round++) {
          await server.kill();
          await server.start();
          await until(
            () => heard.reconnects >= round,
            `onReconnect fires (restart ${round})`,
            8_000,
          );
          // the server counts the receivers: 0 is a silent subscription loss
          const receivers = await redisCommand(
            server.url,
            "PUBLISH",
            channel,
            `after ${round}`,
          );
          assert.equal(receivers, 1, "subscribed again on the server");
          await until(
            () => heard.messages.includes(`after ${round}`),
            `message after restart ${round}`,
          );
        }
        assert.equal(heard.reconnects, 2);
      });

      onPrivateServer(
        "a server that stops answering fails calls at the command timeout",
        { defect: "paused" },
        async (server) => {
          await using driver = disposable(create({ url: server.url, ...fast }));
          const k = key("paused");
          const other = key("paused-other");
          const v1 = Uint8Array.from([1]);
          const v2 = Uint8Array.from([2]);
          const v3 = Uint8Array.from([3]);
          await driver.setMany([
            { key: k, value: v1, ttl: Infinity },
            { key: other, value: v3, ttl: Infinity },
          ]);
          server.pause();
          try {
            const started = performance.now();
            const [read, write] = await Promise.all([
              settles(driver.getMany([k]), 3_000).catch((e) => e),
              settles(
                driver.setMany([{ key: k, value: v2, ttl: Infinity }]),
                3_000,
              ).catch((e) => e),
            ]);
            const ms = elapsed(started);
            assertKind(read, "temporary");
            assertKind(write, "temporary");
            assert.match(read.message, /timed out/);
            assert.ok(
              ms >= fast.commandTimeout - 50 && ms <= fast.commandTimeout + 300,
              `settled after ${ms} ms`,
            );
          } finally {
            server.resume();
          }
          await until(
            () => pings(driver),
            "calls work again",
          );
          // a late reply (v1 for the timed-out read) never reaches a later
          // call; the timed-out write may or may not have been applied
          assert.deepEqual(await driver.getMany([other]), [v3]);
          const [value] = await driver.getMany([k]);
          assert.ok(
            value !== null && [1, 2].includes(value[0]),
            String(value),
          );
        },
      );

      it(
        "a server that never answers the handshake fails calls in time",
        { timeout: 30_000 },
        async (t) => {
          if (knownDefect(t, "silent")) return;
          // reads, never writes
          await using silent = await tcpServer((socket) => socket.resume());
          await using driver = disposable(
            create({ url: `redis://127.0.0.1:${silent.port}`, ...fast }),
          );
          for (let i = 0; i < 3; i++) {
            const started = performance.now();
            const error = await settles(driver.ping(), 3_000).catch((e) => e);
            const ms = elapsed(started);
            assertKind(error, "temporary");
            assert.ok(
              ms <= fast.connectionTimeout + fast.commandTimeout + 300,
              `call ${i} settled after ${ms} ms`,
            );
          }
          assert.ok(silent.sockets.size >= 1);
          const closing = performance.now();
          await settles(driver.close(), 3_000);
          assert.ok(elapsed(closing) < 1_500);
        },
      );

      onPrivateServer("a connection stuck in the handshake is replaced", {
        defect: "stuck handshake",
      }, async (server) => {
        // a proxy that swallows its first connections, then forwards
        await using proxy = await proxyTo(server.port);
        proxy.silent = true;
        await using driver = disposable(
          create({ url: `redis://127.0.0.1:${proxy.port}`, ...fast }),
        );
        const error = await settles(driver.ping(), 3_000).catch((e) => e);
        assertKind(error, "temporary");
        proxy.silent = false;
        const healing = performance.now();
        await until(
          () => pings(driver),
          "a new connection through the proxy",
          10_000,
        );
        assert.ok(elapsed(healing) < 8_000);
      });

      onPrivateServer(
        "a half-open (blackholed) connection is replaced, with its subscription",
        { defect: "blackhole" },
        async (server) => {
          // a proxy whose current connections go silent both ways, staying
          // open, as in a network partition; new connections pass
          await using proxy = await proxyTo(server.port);
          await using driver = disposable(
            create({ url: `redis://127.0.0.1:${proxy.port}`, ...fast }),
          );
          const channel = `${PREFIX}${client}:partition`;
          const heard = await listen(driver, channel);
          await driver.ping();
          proxy.silenceAll();
          const cut = performance.now();
          const error = await settles(driver.ping(), 3_000).catch((e) => e);
          assertKind(error, "temporary");
          await until(
            () => pings(driver),
            "calls work on a new connection",
            10_000,
          );
          await until(() => heard.reconnects >= 1, "onReconnect fires", 10_000);
          assert.equal(
            await redisCommand(server.url, "PUBLISH", channel, "again"),
            1,
          );
          await until(() => heard.messages.includes("again"), "message after");
          assert.ok(elapsed(cut) < 8_000, `healed after ${elapsed(cut)}`);
        },
      );

      onPrivateServer(
        "a quiet connection is kept, not churned",
        {},
        async (server) => {
          const name = `cqi-quiet-${client}-${RUN}`;
          await using driver = disposable(
            create({ url: server.url, name, ...fast }),
          );
          const heard = await listen(driver, "quiet");
          await driver.ping();
          const ids = async () =>
            String(await redisCommand(server.url, "CLIENT", "LIST"))
              .split("\n")
              .filter((line) => line.includes(`name=${name}`))
              .map((line) => /id=(\d+)/.exec(line)?.[1])
              .sort();
          const before = await ids();
          assert.equal(before.length, 2); // commands and subscriber
          // longer than any idle or keep-alive timer of the drivers
          await delay(6_000);
          assert.deepEqual(await ids(), before);
          assert.equal(heard.reconnects, 0);
          await driver.ping();
        },
      );

      it("a closed port fails calls fast", { timeout: 30_000 }, async () => {
        const port = await closedPort();
        await using driver = disposable(
          create({ url: `redis://127.0.0.1:${port}`, ...fast }),
        );
        for (let i = 0; i < 3; i++) {
          const started = performance.now();
          const error = await settles(driver.ping(), 3_000).catch((e) => e);
          const ms = elapsed(started);
          assertKind(error, "temporary");
          assert.match(error.message, /^redis PING failed: .*refused/);
          assert.ok(ms < 300, `call ${i} took ${ms} ms`);
        }
      });

      onPrivateServer(
        "authenticates from the URL (password, user, database, name)",
        { password: "pa ss:w@rd/1" },
        async (server) => {
          const base = `127.0.0.1:${server.port}`;

          // wrong password: a clear error, soon, without the password
          const wrong = "not-the-password-42";
          await using bad = disposable(
            create({ url: `redis://:${wrong}@${base}`, ...fast }),
          );
          for (let i = 0; i < 2; i++) {
            const started = performance.now();
            const error = await settles(bad.ping(), 3_000).catch((e) => e);
            assertKind(error, "permanent");
            assert.match(error.message, /WRONGPASS|NOAUTH/);
            assert.ok(!error.message.includes(wrong));
            assert.ok(!error.message.includes(base));
            // nor anywhere in the cause chain a log would print
            assert.ok(!inspect(error, { depth: 10 }).includes(wrong));
            assert.ok(elapsed(started) < fast.connectionTimeout + 300);
          }

          // no password at all
          await using none = disposable(
            create({ url: `redis://${base}`, ...fast }),
          );
          const error = await settles(none.ping(), 3_000).catch((e) => e);
          assert.ok(error instanceof CqiError, String(error));
          assert.match(error.message, /NOAUTH|WRONGPASS/);

          // a user of its own, database 3, a client name
          await redisCommand(
            server.url,
            "ACL",
            "SETUSER",
            "cqi",
            "on",
            ">user-secret",
            "~*",
            "&*",
            "+@all",
          );
          const name = `cqi-${client}-${RUN}`;
          await using good = disposable(create({
            url: `redis://cqi:user-secret@${base}/3`,
            name,
            ...fast,
          }));
          await good.setMany([{ key: "in-db-3", value: v(7), ttl: Infinity }]);
          assert.equal(
            await redisCommand(`${server.url}/3`, "EXISTS", "in-db-3"),
            1,
          );
          assert.equal(await redisCommand(server.url, "EXISTS", "in-db-3"), 0);
          const clients = await redisCommand(server.url, "CLIENT", "LIST");
          assert.match(String(clients), new RegExp(`name=${name} .*user=cqi`));
        },
      );

      onPrivateServer(
        "a password with % in it: percent-encoded, decoded once",
        { password: "p%41ss 100%" },
        async (server) => {
          // written as create.ts writes it, with encodeURIComponent
          assert.ok(server.url.includes(":p%2541ss%20100%25@"), server.url);
          await using driver = disposable(create({ url: server.url, ...fast }));
          await driver.ping(); // not "pAss 100%"
          // a bare % is no percent-encoding: a TypeError, not a URIError,
          // that names no password
          const url = `redis://:p%41ss 100%@127.0.0.1:${server.port}`;
          assert.throws(() => create({ url, ...fast }), (error) => {
            assert.ok(error instanceof TypeError, String(error));
            assert.match(error.message, /password is not valid percent-enc/);
            assert.ok(!error.message.includes("100"), error.message);
            return true;
          });
        },
      );

      onPrivateServer(
        "close() is prompt and idempotent, also while the server is down",
        {},
        async (server) => {
          const driver = create({ url: server.url, ...fast });
          const channel = `${PREFIX}${client}:closing`;
          await driver.subscribe(channel, () => {}, () => {});
          await driver.ping();
          await server.kill();
          // a new subscription while down fails at once too
          const subscribing = performance.now();
          const down = await settles(
            driver.subscribe(`${channel}:2`, () => {}, () => {}),
            2_000,
          ).catch((e) => e);
          assertKind(down, "temporary");
          assert.ok(elapsed(subscribing) < 100, `${elapsed(subscribing)} ms`);
          const started = performance.now();
          await settles(driver.close(), 2_000);
          assert.ok(elapsed(started) < 500, `close took ${elapsed(started)}`);
          await settles(driver.close(), 2_000);
          const error = await driver.ping().catch((e) => e);
          assertKind(error, "temporary");
          const closed = await driver.subscribe(channel, () => {}, () => {})
            .catch((e) => e);
          assertKind(closed, "temporary");
        },
      );

      onPrivateServer(
        "close() settles pending calls on a stuck server",
        {},
        async (server) => {
          const driver = create({
            url: server.url,
            connectionTimeout: 500,
            commandTimeout: 10_000,
          });
          await driver.ping();
          server.pause();
          try {
            const pending = driver.getMany([key("stuck")]).catch((e) => e);
            await delay(20); // let the command reach the socket
            const started = performance.now();
            await settles(driver.close(), 3_000);
            const error = await settles(pending, 3_000);
            assertKind(error, "temporary");
            assert.ok(
              elapsed(started) < 1_500,
              `close settled after ${elapsed(started)} ms`,
            );
          } finally {
            server.resume();
          }
        },
      );
    });

    it(
      "a process that used the driver exits by itself, with no unhandled error",
      { timeout: 30_000 },
      async (t) => {
        if (!await requireRedis(t)) return;
        const script = join(tmpdir(), `cqi-redis-exit-${RUN}-${client}.ts`);
        const driverUrl = new URL(`./${file}`, import.meta.url).href;
        const factory = client === "node-redis"
          ? "nodeRedisDriver"
          : "ioRedisDriver";
        await writeFile(
          script,
          `import { ${factory} as create } from ${JSON.stringify(driverUrl)};
let failures = 0;
process.on("unhandledRejection", (e) => { failures++; console.log("unhandled rejection", e); process.exitCode = 1; });
process.on("uncaughtException", (e) => { failures++; console.log("uncaught exception", e); process.exitCode = 1; });
const up = create({ url: ${
            JSON.stringify(REDIS_URL)
          }, connectionTimeout: 1000, commandTimeout: 1000 });
const down = create({ url: "redis://127.0.0.1:${await closedPort()}", connectionTimeout: 300, commandTimeout: 300 });
const channel = "${PREFIX}exit:${client}";
const got = Promise.withResolvers();
await up.subscribe(channel, got.resolve, () => {});
await up.publish(channel, "hi");
await got.promise;
await up.ping();
await down.ping().catch(() => {});
await down.ping().catch(() => {});
await Promise.all([up.close(), down.close()]);
console.log(failures === 0 ? "closed" : "failed");
`,
        );
        // a script outside the repository needs the workspace's config
        const config = new URL("../../deno.json", import.meta.url).pathname;
        const child = spawnScript(script, {
          denoFlags: ["-A", "--config", config],
        });
        try {
          await child.line((l) => l === "closed" || l === "failed");
          const closedAt = performance.now();
          const code = await settles(child.exited, 5_000).catch(() => {
            child.signal("SIGKILL");
            return "still running 5 s after close";
          });
          assert.equal(code, 0, child.lines.join("\n"));
          assert.ok(child.lines.includes("closed"), child.lines.join("\n"));
          assert.ok(
            elapsed(closedAt) < 3_000,
            `exited ${elapsed(closedAt)} ms after close`,
          );
        } finally {
          await rm(script, { force: true });
        }
      },
    );
  });
}

function v(...bytes: number[]): Uint8Array {
  return Uint8Array.from(bytes);
}

function assertKind(error: unknown, kind: "temporary" | "permanent"): void {
  assert.ok(error instanceof CqiError, `not a CqiError: ${error}`);
  assert.equal(error.kind, kind, error.message);
  assert.match(error.message, /^redis /);
}

function disposable(driver: RedisDriver): RedisDriver & AsyncDisposable {
  return Object.assign(driver, {
    [Symbol.asyncDispose]: () => driver.close(),
  });
}

function elapsed(since: number): number {
  return Math.round(performance.now() - since);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Rejects when `promise` has not settled within `ms`: a hang fails the test
// instead of stalling it.
function settles<T>(promise: Promise<T>, ms: number): Promise<T> {
  return withTimeout(() => promise, ms);
}

// Subscribes, keeping the messages and counting the reconnects.
async function listen(
  driver: RedisDriver,
  channel: string,
): Promise<{ messages: string[]; reconnects: number }> {
  const heard = { messages: [] as string[], reconnects: 0 };
  await driver.subscribe(
    channel,
    (m) => heard.messages.push(m),
    () => heard.reconnects++,
  );
  return heard;
}

function pings(driver: RedisDriver): Promise<boolean> {
  return driver.ping().then(() => true, () => false);
}

/** A TCP server of the test's own on a free loopback port. */
interface TcpServer extends AsyncDisposable {
  port: number;
  /** Its sockets, and the ones added; disposing destroys them all. */
  sockets: Set<Socket>;
}

async function tcpServer(
  onSocket: (socket: Socket, server: TcpServer) => void,
): Promise<TcpServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    onSocket(socket, handle);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const handle: TcpServer = {
    port: (server.address() as { port: number }).port,
    sockets,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
  return handle;
}

/**
 * A proxy to a local port whose connections can go silent both ways while
 * staying open: those opened while `silent` is set (a server that never
 * answers), and all open at `silenceAll()` (a network partition).
 */
async function proxyTo(
  port: number,
): Promise<TcpServer & { silent: boolean; silenceAll(): void }> {
  const pairs: { holed: boolean }[] = [];
  const proxy = Object.assign(
    await tcpServer((client, { sockets }) => {
      const upstream = connect({ host: "127.0.0.1", port });
      sockets.add(upstream);
      upstream.on("error", () => {});
      const pair = { holed: proxy.silent };
      pairs.push(pair);
      client.on("data", (d) => pair.holed || upstream.write(d));
      upstream.on("data", (d) => pair.holed || client.write(d));
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    }),
    {
      silent: false,
      silenceAll() {
        for (const pair of pairs) pair.holed = true;
      },
    },
  );
  return proxy;
}

// Polls (there is no event to await) until `ok`, for at most `ms`.
async function until(
  ok: () => boolean | Promise<boolean>,
  what: string,
  ms = 5_000,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!await ok()) {
    if (performance.now() > deadline) {
      assert.fail(`not within ${ms} ms: ${what}`);
    }
    await delay(10);
  }
}
