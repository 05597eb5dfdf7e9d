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
  hangingServer,
  httpServer,
  InstantClock,
  rawServer,
} from "./testdata/servers.ts";
import process from "node:process";
import { Readable } from "node:stream";

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
    await using server = hangingServer();
    const changes: string[] = [];
    await using client = createHttpClient({
      baseUrl: server.url,
      breaker: { failureThreshold: 1 },
      hooks: { onBreakerStateChange: ({ to }) => changes.push(to) },
    });
    const controller = new AbortController();
    const pending = client("/", { signal: controller.signal }).catch((e) => e);
    await server.arrived;
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

describe("second red-team round", () => {
  const bun = "Bun" in globalThis;
  const oneShot = (): [string, () => unknown][] => {
    async function* chunks() {
      yield new TextEncoder().encode("PAYLOAD");
    }
    return [
      ["async generator", () => chunks()],
      ["async iterable", () => ({ [Symbol.asyncIterator]: chunks })],
      ["Readable", () => Readable.from([new TextEncoder().encode("PAYLOAD")])],
    ];
  };

  it("a one-shot body is sent once: not retried, and a 307 fails permanent", async () => {
    const seen: string[] = [];
    await using server = httpServer(async (req) => {
      const { pathname } = new URL(req.url);
      seen.push(`${pathname} ${await req.text()}`);
      if (pathname === "/busy") {
        return new Response(null, {
          status: 503,
          headers: { "retry-after": "0" },
        });
      }
      if (pathname === "/moved") {
        return new Response(null, { status: 307, headers: { location: "/" } });
      }
      return new Response("ok");
    });
    await using client = createHttpClient({ baseUrl: server.url, retry: fast });
    for (const [name, body] of oneShot()) {
      seen.length = 0;
      const busy = await client("/busy", {
        method: "PUT",
        body: body() as BodyInit,
      }).catch((e) => e);
      assert.equal(kindOf(busy), "temporary", name);
      assert.deepEqual(seen, ["/busy PAYLOAD"], name);
      seen.length = 0;
      const moved = await client("/moved", {
        method: "PUT",
        body: body() as BodyInit,
      }).catch((e) => e);
      assert.equal(kindOf(moved), "permanent", name);
      assert.match(moved.message, /cannot be sent again/, name);
      assert.deepEqual(seen, ["/moved PAYLOAD"], name);
    }
  });

  it("a fetch error that can never succeed: permanent, one attempt, breaker untouched", async () => {
    await using server = httpServer(() => new Response("ok"));
    const attempts: number[] = [];
    const changes: string[] = [];
    const options = {
      retry: fast,
      breaker: { failureThreshold: 1 },
      hooks: {
        onRequest: ({ attempt }: { attempt: number }) => attempts.push(attempt),
        onBreakerStateChange: ({ to }: { to: string }) => changes.push(to),
      },
    };
    await using client = createHttpClient({ baseUrl: server.url, ...options });
    if (!bun) {
      // Deno refuses a URL over 64 KiB (Bun sends it)
      const long = await client(`/${"a".repeat(70_000)}`).catch((e) => e);
      assert.equal(kindOf(long), "invalid_input");
      assert.equal(server.hits, 0);
      // a blocked port
      await using blocked = createHttpClient({
        baseUrl: "http://127.0.0.1:1/",
        ...options,
      });
      assert.equal(kindOf(await blocked("/").catch((e) => e)), "permanent");
      assert.deepEqual(attempts, [1, 1]);
    }
    assert.deepEqual(changes, []);
    // connection refused stays temporary, retried and counted
    attempts.length = 0;
    await using dead = createHttpClient({
      baseUrl: await deadPort(),
      ...options,
    });
    assert.equal(kindOf(await dead("/").catch((e) => e)), "temporary");
    // the second attempt finds the breaker open
    assert.deepEqual(attempts, [1, 2]);
    assert.deepEqual(changes, ["open"]);
  });

  it("getJson's validation: within the deadline, close() and the caller's signal; a throwing one is typed", async () => {
    await using server = httpServer(() => Response.json({ a: 1 }));
    const schema = (validate: () => unknown) =>
      ({ "~standard": { version: 1, vendor: "test", validate } }) as never;
    const never = schema(() => new Promise(() => {}));
    const changes: string[] = [];
    await using client = createHttpClient({
      baseUrl: server.url,
      timeout: 100,
      breaker: { failureThreshold: 1 },
      hooks: { onBreakerStateChange: ({ to }) => changes.push(to) },
    });
    assert.equal(
      kindOf(await client.getJson("/", never).catch((e) => e)),
      "timeout",
    );
    const reason = new Error("left");
    const caller = new AbortController();
    const left = client.getJson("/", never, {
      signal: caller.signal,
      timeout: 5_000,
    })
      .catch((e) => e);
    await new Promise<void>((resolve) => {
      const check = () => server.hits >= 2 ? resolve() : setTimeout(check, 1);
      check();
    });
    caller.abort(reason);
    assert.equal(await left, reason);
    const cause = new Error("schema bug");
    const thrown = await client.getJson(
      "/",
      schema(() => {
        throw cause;
      }),
    ).catch((e) => e);
    assert.equal(kindOf(thrown), "permanent");
    assert.match(thrown.message, /schema/);
    assert.equal(thrown.cause, cause);
    assert.deepEqual(changes, []);
    const closing = client.getJson("/", never, { timeout: 5_000 }).catch((e) =>
      e
    );
    await new Promise<void>((resolve) => {
      const check = () => server.hits >= 4 ? resolve() : setTimeout(check, 1);
      check();
    });
    await client.close();
    assert.equal(kindOf(await closing), "canceled");
  });

  it("every request on the wire takes a rate-limit token, redirect hops too", async () => {
    await using server = httpServer((req) =>
      new URL(req.url).pathname === "/a"
        ? new Response(null, { status: 307, headers: { location: "/b" } })
        : new Response("ok")
    );
    const clock = new InstantClock();
    await using client = createHttpClient({
      baseUrl: server.url,
      clock,
      rateLimit: { rate: 10, burst: 1 },
    });
    await (await client("/a")).text();
    assert.equal(server.hits, 2);
    assert.deepEqual(clock.sleeps, [100]);
  });

  it("methods: the raw string is checked; standard ones normalized, others kept (refused on Bun when it cannot send them)", async () => {
    const methods: string[] = [];
    await using server = httpServer((req) => {
      methods.push(req.method);
      return new Response("ok");
    });
    await using client = createHttpClient({
      baseUrl: server.url,
      retry: false,
    });
    for (const method of ["poſt", "ﬀ", "deleteı"]) {
      await assert.rejects(client("/", { method }), TypeError, method);
    }
    for (const method of ["patch", "Delete", "PURGE", "QUERY"]) {
      await (await client("/", { method })).text();
    }
    for (const method of ["FOO", "X_Y", "purge"]) {
      const sent = client("/", { method }).then((res) => res.text());
      if (bun) {
        await assert.rejects(
          sent,
          (e: Error) =>
            e instanceof TypeError &&
            e.message.includes(JSON.stringify(method)) &&
            e.message.includes("Bun"),
        );
      } else await sent;
    }
    assert.deepEqual(
      methods,
      [
        "PATCH",
        "DELETE",
        "PURGE",
        "QUERY",
        ...bun ? [] : ["FOO", "X_Y", "purge"],
      ],
    );
    assert.equal(server.hits, bun ? 4 : 7);
  });

  it("an invalid redirect mode is a TypeError", async () => {
    await using client = createHttpClient({ baseUrl: "http://127.0.0.1:9/" });
    await assert.rejects(
      client("/", { redirect: "foo" as RequestRedirect }),
      TypeError,
    );
  });

  it("a UTF-8 Location is decoded as UTF-8", async () => {
    const paths: string[] = [];
    // the header's bytes are UTF-8: "é" as C3 A9
    await using server = httpServer((req) => {
      const { pathname } = new URL(req.url);
      paths.push(pathname);
      return pathname === "/v1/start"
        ? new Response(null, {
          status: 307,
          headers: { location: "/v1/caf\u00c3\u00a9" },
        })
        : new Response("ok");
    });
    await using client = createHttpClient({ baseUrl: `${server.url}/v1/` });
    await (await client("start")).text();
    assert.deepEqual(paths, ["/v1/start", "/v1/caf%C3%A9"]);
  });
});
