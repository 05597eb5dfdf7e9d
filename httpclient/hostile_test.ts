import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { kindOf } from "@cqi/errors";
import { createRateLimiter } from "@cqi/retry";
import { createHttpClient } from "./mod.ts";
import {
  alwaysTooMany,
  causeText,
  deadPort,
  httpServer,
  InstantClock,
  rawServer,
} from "./testdata/servers.ts";
import process from "node:process";

const HEAD = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n";
const fast = { initialDelay: 1, maxDelay: 2, jitter: 0 } as const;

describe("hostile servers", () => {
  it("a server that never answers: the deadline ends the call as timeout", async () => {
    await using server = await rawServer(() => {});
    await using client = createHttpClient({
      baseUrl: server.url,
      timeout: 100,
    });
    const started = performance.now();
    const error = await client("/slow").catch((e) => e);
    assert.equal(kindOf(error), "timeout");
    assert.match(
      error.message,
      /^GET 127\.0\.0\.1:\d+\/slow: no answer within 100 ms$/,
    );
    assert.ok(performance.now() - started < 2_000);
    assert.equal(server.requests, 1);
  });

  it("a slow body: the deadline covers the body read, for fetch and getJson", async () => {
    await using server = await rawServer((socket) =>
      socket.write(`${HEAD}content-length: 100\r\n\r\n{"a":`)
    );
    await using client = createHttpClient({
      baseUrl: server.url,
      timeout: 150,
    });
    const res = await client("/");
    assert.equal(kindOf(await res.text().catch((e) => e)), "timeout");
    const error = await client.getJson("/", v.unknown()).catch((e) => e);
    assert.equal(kindOf(error), "timeout");
  });

  it("an endless body: the deadline stops it", async () => {
    await using server = await rawServer((socket) => {
      socket.write(`${HEAD}transfer-encoding: chunked\r\n\r\n`);
      const chunk = `1000\r\n${" ".repeat(4096)}\r\n`;
      const pump = () => {
        while (!socket.destroyed && socket.write(chunk));
        if (!socket.destroyed) socket.once("drain", pump);
      };
      pump();
    });
    await using client = createHttpClient({
      baseUrl: server.url,
      timeout: 200,
      maxResponseBytes: 2 ** 40,
    });
    const res = await client("/");
    assert.equal(kindOf(await res.arrayBuffer().catch((e) => e)), "timeout");
    // getJson too
    const endless = await client.getJson("/", v.unknown()).catch((e) => e);
    assert.equal(kindOf(endless), "timeout");
    // getJson stops at maxResponseBytes first when that is smaller
    await using small = createHttpClient({
      baseUrl: server.url,
      timeout: 5_000,
      maxResponseBytes: 64 * 1024,
    });
    const error = await small.getJson("/", v.unknown()).catch((e: Error) => e);
    assert.equal(kindOf(error), "too_large");
    assert.match((error as Error).message, /larger than 65536 bytes/);
  });

  it("a connection closed mid-body: temporary, and getJson retries it", async () => {
    let n = 0;
    await using server = await rawServer((socket) => {
      if (++n < 3) {
        socket.write(`${HEAD}content-length: 100\r\n\r\n{"a":`);
        socket.destroy();
      } else {
        socket.end(
          `${HEAD}content-length: 7\r\nconnection: close\r\n\r\n{"a":1}`,
        );
      }
    });
    await using client = createHttpClient({ baseUrl: server.url, retry: fast });
    assert.deepEqual(await client.getJson("/", v.object({ a: v.number() })), {
      a: 1,
    });
    assert.equal(server.requests, 3);
    n = 0;
    // through the fetch function the body is the caller's to read: the
    // runtime's own error, and no retry
    const res = await client("/");
    await assert.rejects(res.text());
    assert.equal(server.requests, 4);
  });

  it("the caller's signal cancels mid-body with its reason", async () => {
    await using server = await rawServer((socket) =>
      socket.write(`${HEAD}transfer-encoding: chunked\r\n\r\n5\r\n{"a":\r\n`)
    );
    await using client = createHttpClient({ baseUrl: server.url });
    const controller = new AbortController();
    const res = await client("/", { signal: controller.signal });
    const reader = res.body!.getReader();
    assert.equal(
      new TextDecoder().decode((await reader.read()).value),
      '{"a":',
    );
    const reason = new Error("user left");
    const next = reader.read();
    controller.abort(reason);
    await assert.rejects(next, (e) => e === reason);
  });

  it("a caller's abort is no failure of the host", async () => {
    const arrived = Promise.withResolvers<void>();
    await using server = httpServer(async (req) => {
      arrived.resolve();
      await new Promise((resolve) =>
        req.signal.addEventListener("abort", resolve)
      );
      return new Response();
    });
    const changes: string[] = [];
    await using client = createHttpClient({
      baseUrl: server.url,
      breaker: { failureThreshold: 1 },
      hooks: { onBreakerStateChange: ({ to }) => changes.push(to) },
    });
    const controller = new AbortController();
    const pending = client("/", { signal: controller.signal }).catch((e) => e);
    await arrived.promise;
    const reason = new Error("user left");
    controller.abort(reason);
    assert.equal(await pending, reason);
    assert.deepEqual(changes, []);
  });

  it("429 forever: gives up after maxAttempts, within the deadline", async () => {
    await using server = alwaysTooMany("1");
    const clock = new InstantClock();
    await using client = createHttpClient({
      baseUrl: server.url,
      clock,
      retry: { maxAttempts: 5 },
    });
    const error = await client("/").catch((e) => e);
    assert.equal(kindOf(error), "rate_limited");
    assert.equal(server.hits, 5);
    assert.deepEqual(clock.sleeps.map((ms) => ms >= 1_000), [
      true,
      true,
      true,
      true,
    ]);
  });

  it("opens the breaker of a host, fails fast, probes half-open and closes", async () => {
    let healthy = false;
    await using server = httpServer(() =>
      new Response(null, { status: healthy ? 200 : 500 })
    );
    const clock = new InstantClock();
    const changes: string[] = [];
    await using client = createHttpClient({
      baseUrl: server.url,
      clock,
      breaker: { failureThreshold: 2, openFor: 1_000 },
      hooks: {
        onBreakerStateChange: ({ host, from, to }) =>
          changes.push(`${host === new URL(server.url).host} ${from}->${to}`),
      },
    });
    await assert.rejects(client("/"));
    await assert.rejects(client("/"));
    assert.deepEqual(changes, ["true closed->open"]);
    // a flood against the open breaker reaches no server
    const flood = await Promise.all(
      Array.from({ length: 200 }, () => client("/").catch((e) => e)),
    );
    assert.equal(server.hits, 2);
    assert.ok(flood.every((e) => kindOf(e) === "temporary"));
    assert.match(
      flood[0].message,
      /circuit breaker "127\.0\.0\.1:\d+" is open/,
    );
    clock.time += 1_000;
    healthy = true;
    assert.equal((await client("/")).status, 200);
    assert.deepEqual(changes, [
      "true closed->open",
      "true open->half_open",
      "true half_open->closed",
    ]);
  });

  it("a failed half-open probe opens the breaker again", async () => {
    await using server = httpServer(() => new Response(null, { status: 503 }));
    const clock = new InstantClock();
    const changes: string[] = [];
    await using client = createHttpClient({
      baseUrl: server.url,
      clock,
      retry: false,
      breaker: { failureThreshold: 1, openFor: 500 },
      hooks: { onBreakerStateChange: ({ to }) => changes.push(to) },
    });
    await assert.rejects(client("/"));
    clock.time += 500;
    await assert.rejects(client("/"));
    assert.deepEqual(changes, ["open", "half_open", "open"]);
    assert.equal(server.hits, 2);
  });

  it("paces attempts with the rate limit", async () => {
    await using server = httpServer(() => new Response("ok"));
    const clock = new InstantClock();
    await using client = createHttpClient({
      baseUrl: server.url,
      clock,
      rateLimit: { rate: 10, burst: 2 },
    });
    for (let i = 0; i < 4; i++) await (await client("/")).text();
    assert.deepEqual(clock.sleeps, [100, 100]);
    // a shared limiter that refuses long waits
    const limiter = createRateLimiter({ rate: 1, burst: 1, maxWait: 0, clock });
    const changes: string[] = [];
    await using strict = createHttpClient({
      baseUrl: server.url,
      clock,
      rateLimit: limiter,
      retry: false,
      breaker: { failureThreshold: 1 },
      hooks: { onBreakerStateChange: ({ to }) => changes.push(to) },
    });
    await (await strict("/")).text();
    assert.equal(kindOf(await strict("/").catch((e) => e)), "rate_limited");
    assert.equal(server.hits, 5);
    // our own limit is no failure of the host: its breaker stays closed
    assert.deepEqual(changes, []);
  });

  it("a flood of concurrent calls against a failing server stays bounded", async () => {
    await using server = httpServer(() => new Response(null, { status: 503 }));
    await using client = createHttpClient({
      baseUrl: server.url,
      retry: { ...fast, maxAttempts: 3 },
      breaker: { failureThreshold: 5, openFor: 60_000 },
    });
    const errors = await Promise.all(
      Array.from({ length: 100 }, () => client("/").catch((e) => e)),
    );
    assert.ok(errors.every((e) => kindOf(e) === "temporary"));
    // without the breaker: 300 attempts
    assert.ok(server.hits < 300, `${server.hits} attempts`);
  });
});

describe("red-team findings", () => {
  it("a gzip bomb: the decoded bytes count against maxResponseBytes", async () => {
    const json = new TextEncoder().encode(`${" ".repeat(16 * 2 ** 20)}1`);
    const gz = await new Response(
      new Blob([json]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer();
    await using server = httpServer(() =>
      new Response(gz, {
        headers: {
          "content-encoding": "gzip",
          "content-type": "application/json",
        },
      })
    );
    await using client = createHttpClient({
      baseUrl: server.url,
      maxResponseBytes: 2 ** 20,
    });
    const error = await client.getJson("/", v.number()).catch((e) => e);
    assert.equal(kindOf(error), "too_large");
  });

  it("an async hook that rejects changes nothing (no unhandled rejection)", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      await using server = httpServer(() =>
        new Response(null, { status: 500 })
      );
      await using client = createHttpClient({
        baseUrl: server.url,
        retry: false,
        breaker: { failureThreshold: 1 },
        hooks: {
          onRequest: () => Promise.reject(new Error("hook down")),
          onBreakerStateChange: async () => {
            await Promise.resolve();
            throw new Error("hook down");
          },
        },
      });
      assert.equal(kindOf(await client("/").catch((e) => e)), "temporary");
      // the unhandled-rejection check runs once the task is over
      await new Promise((resolve) => setTimeout(resolve, 0));
      await new Promise((resolve) => setTimeout(resolve, 0));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("no part of the query or credentials reaches the error's cause chain", async () => {
    const refused = await deadPort();
    await using huge = await rawServer((socket) =>
      socket.end(
        `HTTP/1.1 200 OK\r\nx-big: ${"a".repeat(2_000_000)}\r\n\r\n`,
      )
    );
    for (const base of [refused, huge.url]) {
      await using client = createHttpClient({
        baseUrl: base,
        retry: false,
        breaker: false,
      });
      const url = `${base.replace("//", "//bob:hunter2@")}/x?api_key=SECRET123`;
      const error = await client(url).catch((e) => e);
      assert.ok(error instanceof Error, base);
      const text = causeText(error);
      for (const secret of ["SECRET", "api_key", "hunter2", "bob"]) {
        assert.ok(!text.includes(secret), `${secret} in ${text}`);
      }
      // what went wrong is still said
      if (base === refused) assert.match(String(error.cause), /refused/i);
    }
  });

  it("fetches only http: and https: without a base URL", async () => {
    await using client = createHttpClient();
    for (const url of ["file:///etc/passwd", "data:text/plain,hi"]) {
      await assert.rejects(client(url), {
        name: "TypeError",
        message: /http: or https:/,
      });
    }
  });

  it("refuses an invalid or forbidden method before any attempt, breaker untouched", async () => {
    await using server = httpServer(() => new Response("ok"));
    const changes: string[] = [];
    await using client = createHttpClient({
      baseUrl: server.url,
      breaker: { failureThreshold: 1 },
      hooks: { onBreakerStateChange: ({ to }) => changes.push(to) },
    });
    for (
      const method of ["CONNECT", "trace", "TRACK", "GE T", "GET\r\nX: y", ""]
    ) {
      await assert.rejects(client("/", { method }), (error: Error) => {
        assert.equal(error.name, "TypeError");
        assert.ok(
          error.message.includes(JSON.stringify(method)),
          error.message,
        );
        return true;
      });
    }
    await assert.rejects(
      client("/", { headers: { "x-a": "a\r\nb" } }),
      { name: "TypeError" },
    );
    assert.equal(server.hits, 0);
    assert.deepEqual(changes, []);
    assert.equal(await (await client("/")).text(), "ok");
  });

  it("refuses a timeout a timer cannot hold, naming it; Infinity means none", async () => {
    assert.throws(() => createHttpClient({ timeout: 2 ** 31 }), {
      name: "RangeError",
      message: /timeout/,
    });
    await using server = httpServer(() => new Response("ok"));
    await using client = createHttpClient({
      baseUrl: server.url,
      timeout: 2 ** 31 - 1,
    });
    await assert.rejects(client("/", { timeout: 2 ** 40 }), {
      name: "RangeError",
      message: /timeout/,
    });
    assert.equal(await (await client("/", { timeout: Infinity })).text(), "ok");
    assert.equal(server.hits, 1);
  });

  it("credentials with a malformed % escape: a TypeError that does not echo them", async () => {
    assert.throws(
      () => createHttpClient({ baseUrl: "http://us%ZZer:pw@127.0.0.1/" }),
      (error: Error) =>
        error.name === "TypeError" && !error.message.includes("us%ZZer"),
    );
    await using client = createHttpClient();
    await assert.rejects(
      client("http://x:p%E0%A4%A@127.0.0.1:1/"),
      (error: Error) =>
        error.name === "TypeError" && !error.message.includes("%E0"),
    );
  });

  it("keeps at most 1,000 breakers, forgetting the least recently used, open ones too", async () => {
    const port = new URL(await deadPort()).port;
    const opened: string[] = [];
    await using client = createHttpClient({
      retry: false,
      breaker: { failureThreshold: 1 },
      hooks: {
        onBreakerStateChange: ({ host, to }) =>
          to === "open" && opened.push(host),
      },
    });
    const host = (i: number) => `127.${(i >> 8) + 1}.${i & 255}.1:${port}`;
    const call = (i: number) => client(`http://${host(i)}/`).catch((e) => e);
    await call(0);
    await call(1);
    for (let i = 2; i <= 1_000; i++) {
      await call(i);
      if (i === 500) await call(1); // used again: kept
    }
    assert.equal(opened.length, 1_001);
    assert.match((await call(1)).message, /breaker .* is open/);
    await call(0); // forgotten: a new breaker, that tries and opens again
    assert.equal(opened.filter((h) => h === host(0)).length, 2);
  });
});
