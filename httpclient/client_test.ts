import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { create } from "@bufbuild/protobuf";
import { DurationSchema, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { CqiError, isInvalidInput, kindOf } from "@cqi/errors";
import { createTracing, startSpan } from "@cqi/tracing";
import { createHttpClient, type RequestInfo } from "./mod.ts";
import {
  alwaysTooMany,
  deadPort,
  hangingServer,
  httpServer,
  InstantClock,
} from "./testdata/servers.ts";

const fast = { initialDelay: 1, maxDelay: 2, jitter: 0 } as const;

describe("createHttpClient", () => {
  it("retries 502, 503, 504 and 429 until success, counting attempts", async () => {
    for (const status of [502, 503, 504, 429]) {
      await using server = httpServer((_req, hit) =>
        hit < 3 ? new Response("busy", { status }) : new Response("ok")
      );
      await using client = createHttpClient({
        baseUrl: server.url,
        retry: fast,
      });
      assert.equal(await (await client("/x")).text(), "ok");
      assert.equal(server.hits, 3, String(status));
    }
  });

  it("gives up after maxAttempts with an error naming method, host, path and status only", async () => {
    await using server = httpServer(() =>
      new Response("secret-token " + "x".repeat(10_000), { status: 503 })
    );
    const base = new URL(server.url);
    base.username = "alice";
    base.password = "s3cr3t";
    await using client = createHttpClient({
      baseUrl: base,
      retry: { ...fast, maxAttempts: 4 },
    });
    const error = await client("/orders/1?apikey=k3y").catch((e) => e);
    assert.equal(server.hits, 4);
    assert.ok(error instanceof CqiError);
    assert.equal(error.kind, "temporary");
    assert.equal(error.message, `GET ${base.host}/orders/1 answered 503`);
    const cause = String((error.cause as Error).message);
    assert.ok(cause.includes("secret-token"));
    assert.ok(cause.length < 300, `excerpt of ${cause.length} characters`);
    for (const hidden of ["alice", "s3cr3t", "k3y"]) {
      assert.ok(!error.message.includes(hidden));
    }
  });

  it("maps statuses to error kinds and never retries 501 or other 4xx", async () => {
    const table: Record<number, string> = {
      400: "invalid_input",
      401: "unauthorized",
      403: "forbidden",
      404: "not_found",
      405: "permanent",
      409: "conflict",
      410: "not_found",
      413: "too_large",
      422: "invalid_input",
      500: "temporary",
      501: "permanent",
      505: "temporary",
    };
    await using server = httpServer((req) =>
      new Response(null, { status: Number(new URL(req.url).pathname.slice(1)) })
    );
    await using client = createHttpClient({ baseUrl: server.url, retry: fast });
    for (const [status, kind] of Object.entries(table)) {
      const before = server.hits;
      const error = await client(`/${status}`).catch((e) => e);
      assert.equal(kindOf(error), kind, status);
      assert.equal(server.hits - before, 1, `${status} was retried`);
    }
  });

  it("does not retry a POST unless it is marked idempotent", async () => {
    await using server = httpServer(() => new Response(null, { status: 503 }));
    await using client = createHttpClient({ baseUrl: server.url, retry: fast });
    await assert.rejects(client("/p", { method: "POST", body: "a" }));
    assert.equal(server.hits, 1);
    await assert.rejects(
      client("/p", { method: "POST", body: "a", idempotent: true }),
    );
    assert.equal(server.hits, 4);
    await assert.rejects(client("/p", { idempotent: false }));
    assert.equal(server.hits, 5);
  });

  it("does not retry a body stream, which cannot be sent again", async () => {
    const bodies: string[] = [];
    await using server = httpServer(async (req) => {
      bodies.push(await req.text());
      return new Response(null, { status: 503 });
    });
    await using client = createHttpClient({ baseUrl: server.url, retry: fast });
    const stream = new Blob(["streamed"]).stream();
    await assert.rejects(
      client("/p", { method: "PUT", body: stream, idempotent: true }),
    );
    assert.deepEqual(bodies, ["streamed"]);
    // a buffered body is sent again on each attempt
    await assert.rejects(client("/p", { method: "PUT", body: "buffered" }));
    assert.deepEqual(bodies, ["streamed", "buffered", "buffered", "buffered"]);
  });

  it("retries network errors as temporary", async () => {
    const url = await deadPort();
    const seen: RequestInfo[] = [];
    await using client = createHttpClient({
      baseUrl: url,
      retry: fast,
      hooks: { onRequest: (info) => void seen.push(info) },
    });
    const error = await client("/x").catch((e) => e);
    assert.equal(kindOf(error), "temporary");
    assert.match(
      error.message,
      /^GET 127\.0\.0\.1:\d+\/x: the request failed$/,
    );
    assert.deepEqual(seen.map((i) => i.attempt), [1, 2, 3]);
    assert.equal(seen[0].status, undefined);
  });

  it("waits as Retry-After says, in seconds or as a date, capped; garbage falls back to backoff", async () => {
    const retryAfter = [
      "3",
      new Date(Date.now() + 60_000).toUTCString(),
      "86400",
      "soon",
    ];
    for (const value of retryAfter) {
      await using server = httpServer((_req, hit) =>
        hit === 1
          ? new Response(null, {
            status: 429,
            headers: { "retry-after": value },
          })
          : new Response("ok")
      );
      const clock = new InstantClock();
      await using client = createHttpClient({
        baseUrl: server.url,
        clock,
        retry: { ...fast, maxRetryAfter: 10_000 },
      });
      await (await client("/")).text();
      assert.equal(clock.sleeps.length, 1);
      const [wait] = clock.sleeps;
      if (value === "3") assert.equal(wait, 3_000);
      else if (value === "soon") assert.equal(wait, 1);
      else assert.equal(wait, 10_000, value); // capped
    }
  });

  it("gives up at once when Retry-After reaches past the deadline", async () => {
    await using server = alwaysTooMany("20");
    const clock = new InstantClock();
    await using client = createHttpClient({
      baseUrl: server.url,
      clock,
      timeout: 5_000,
    });
    const error = await client("/").catch((e) => e);
    assert.equal(kindOf(error), "rate_limited");
    assert.equal(error.retryAfter, 20_000);
    assert.equal(server.hits, 1);
    assert.deepEqual(clock.sleeps, []);
  });

  it("cancels the bodies of retried answers (no connection held)", async () => {
    let canceled = 0;
    const allCanceled = Promise.withResolvers<void>();
    await using server = httpServer((_req, hit) => {
      if (hit > 3) return new Response("ok");
      let n = 0;
      return new Response(
        new ReadableStream({
          pull(controller) {
            controller.enqueue(new Uint8Array(64 * 1024).fill(120));
            if (++n > 1_000) controller.close();
          },
          cancel() {
            if (++canceled === 3) allCanceled.resolve();
          },
        }),
        { status: 503 },
      );
    });
    await using client = createHttpClient({
      baseUrl: server.url,
      retry: { ...fast, maxAttempts: 4 },
    });
    assert.equal(await (await client("/")).text(), "ok");
    await allCanceled.promise;
    assert.equal(canceled, 3);
  });

  it("getJson checks the body with a Standard Schema", async () => {
    await using server = httpServer((req) => {
      const path = new URL(req.url).pathname;
      assert.equal(req.headers.get("accept"), "application/json");
      if (path === "/ok") return Response.json({ id: "a", qty: 2 });
      if (path === "/bad") return Response.json({ id: 7, secret: "pw" });
      return new Response("{not json", { status: 200 });
    });
    await using client = createHttpClient({ baseUrl: server.url });
    const Order = v.object({ id: v.string(), qty: v.number() });
    assert.deepEqual(await client.getJson("/ok", Order), { id: "a", qty: 2 });

    const host = new URL(server.url).host;
    const invalid = await client.getJson("/garbage?token=t", Order).catch((e) =>
      e
    );
    assert.equal(kindOf(invalid), "permanent");
    assert.equal(
      invalid.message,
      `GET ${host}/garbage: the response is not valid JSON`,
    );

    const mismatch = await client.getJson("/bad", Order).catch((e) => e);
    assert.equal(kindOf(mismatch), "permanent");
    assert.equal(
      mismatch.message,
      `GET ${host}/bad: the response does not match the schema`,
    );
    assert.ok(isInvalidInput(mismatch.cause));
    assert.deepEqual(mismatch.cause.fields, {
      id: "is invalid",
      qty: "is required",
    });
    assert.ok(!JSON.stringify(mismatch.cause.fields).includes("pw"));
  });

  it("post sends and decodes protobuf messages, not retried by default", async () => {
    await using server = httpServer(async (req, hit) => {
      assert.equal(req.headers.get("content-type"), "application/x-protobuf");
      if (hit === 1) return new Response(null, { status: 503 });
      const bytes = new Uint8Array(await req.arrayBuffer());
      return new Response(bytes); // echoes the Timestamp's bytes
    });
    await using client = createHttpClient({ baseUrl: server.url, retry: fast });
    const stamp = create(TimestampSchema, { seconds: 60n, nanos: 5 });
    const failed = await client.post("/echo", TimestampSchema, stamp).catch((
      e,
    ) => e);
    assert.equal(kindOf(failed), "temporary");
    assert.equal(server.hits, 1);
    const echoed = await client.post("/echo", TimestampSchema, stamp);
    assert.equal(echoed.seconds, 60n);
    assert.equal(echoed.nanos, 5);
    // decoded as another message type: same wire fields, seconds and nanos
    const duration = await client.post("/echo", TimestampSchema, stamp, {
      response: DurationSchema,
    });
    assert.equal(duration.$typeName, "google.protobuf.Duration");
    await using garbage = httpServer(() =>
      new Response(new Uint8Array([0x08]))
    );
    await using other = createHttpClient({ baseUrl: garbage.url });
    const error = await other.post("/echo", TimestampSchema, stamp).catch((e) =>
      e
    );
    assert.equal(kindOf(error), "permanent");
    assert.match(
      error.message,
      /\/echo: the response is not a valid google\.protobuf\.Timestamp$/,
    );
  });

  it("keeps paths under the base URL and moves credentials to a header", async () => {
    const seen: string[] = [];
    await using server = httpServer((req) => {
      seen.push(
        `${new URL(req.url).pathname} ${req.headers.get("authorization")}`,
      );
      return new Response("ok");
    });
    const base = new URL(`${server.url}/api/v1/`);
    base.username = "alice";
    base.password = "pw";
    await using client = createHttpClient({ baseUrl: base });
    await (await client("orders/1")).text();
    await (await client("/orders/2")).text();
    assert.deepEqual(seen, [
      `/api/v1/orders/1 Basic ${btoa("alice:pw")}`,
      `/api/v1/orders/2 Basic ${btoa("alice:pw")}`,
    ]);
    for (const path of ["../admin", "/%2e%2e/admin", "http://evil.example/"]) {
      await assert.rejects(client(path), TypeError, path);
    }
    // no other host through a scheme-relative path or backslashes
    for (const path of ["//evil.example/x", "\\\\evil.example/x"]) {
      await (await client(path)).text();
    }
    assert.deepEqual(seen.slice(2).map((line) => line.split(" ")[0]), [
      "/api/v1/evil.example/x",
      "/api/v1/evil.example/x",
    ]);
  });

  it("injects traceparent and makes a client span per attempt", async () => {
    await using tracing = createTracing({
      service: { name: "httpclient-test" },
      exporter: "memory",
      sampler: "always",
    });
    const parents: string[] = [];
    await using server = httpServer((req, hit) => {
      parents.push(req.headers.get("traceparent") ?? "none");
      return new Response(null, { status: hit === 1 ? 503 : 204 });
    });
    await using client = createHttpClient({ baseUrl: server.url, retry: fast });
    await startSpan("parent", async () => {
      await client("/traced");
    });
    assert.equal(parents.length, 2);
    assert.notEqual(parents[0], parents[1]);
    for (const p of parents) {
      assert.match(p, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    }
    const clients = tracing.spans().filter((s) => s.kind === "client");
    if (clients.length > 0) assert.equal(clients.length, 2);
  });

  it("reports each attempt to the hooks, and a throwing hook changes nothing", async () => {
    await using server = httpServer((_req, hit) =>
      new Response(null, { status: hit === 1 ? 503 : 200 })
    );
    const seen: RequestInfo[] = [];
    await using client = createHttpClient({
      baseUrl: server.url,
      retry: fast,
      hooks: {
        onRequest: (info) => {
          seen.push(info);
          throw new Error("broken hook");
        },
      },
    });
    await client("/", { method: "delete" });
    assert.deepEqual(
      seen.map(({ method, status, attempt }) => ({ method, status, attempt })),
      [
        { method: "DELETE", status: 503, attempt: 1 },
        { method: "DELETE", status: 200, attempt: 2 },
      ],
    );
    assert.equal(seen[0].host, new URL(server.url).host);
    assert.ok(seen.every((i) => i.duration >= 0));
  });

  it("close() aborts calls in flight with canceled and refuses new ones", async () => {
    await using server = hangingServer();
    const client = createHttpClient({ baseUrl: server.url });
    const pending = client("/hang").catch((e) => e);
    await server.arrived;
    await client.close();
    assert.equal(kindOf(await pending), "canceled");
    assert.equal(kindOf(await client("/").catch((e) => e)), "canceled");
  });

  it("rejects bad options, naming them", () => {
    assert.throws(() => createHttpClient({ baseUrl: "ftp://x" }), TypeError);
    assert.throws(() => createHttpClient({ baseUrl: "nope" }), TypeError);
    assert.throws(() => createHttpClient({ timeout: -1 }), /timeout/);
    assert.throws(
      () => createHttpClient({ retry: { maxAttempts: 0 } }),
      /maxAttempts/,
    );
    assert.throws(
      () => createHttpClient({ retry: { maxRetryAfter: Infinity } }),
      /maxRetryAfter/,
    );
  });
});
