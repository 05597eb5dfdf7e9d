// End-to-end test of the example service (issue 9): examples/quickstart/main.ts
// runs as a child process on Deno and on Bun and is driven over HTTP only —
// auth, validation, 404, a round trip, health, metrics, trace context through
// a real OTLP/HTTP export, then SIGTERM under load.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serve } from "@cqi/http";
import { type Child, spawnScript, within } from "../_util.ts";

const MAIN = new URL("../../examples/quickstart/main.ts", import.meta.url);
const KEY = "e2e-quickstart-key-0123456789abcdef0123456789";
const AUTH = { authorization: `Bearer ${KEY}` };

/** A minimal OTLP/HTTP receiver: 200 to every POST /v1/traces, counted. */
function otlpReceiver() {
  let exports = 0;
  const server = serve(async (req) => {
    const path = new URL(req.url).pathname;
    await req.arrayBuffer(); // not decoded: that it arrives is enough
    if (req.method !== "POST" || path !== "/v1/traces") {
      return new Response(null, { status: 404 });
    }
    exports++;
    return new Response(null, { status: 200 });
  }, { port: 0, hostname: "127.0.0.1", handleSignals: false });
  return {
    server,
    url: `http://127.0.0.1:${server.addr.port}`,
    exports: () => exports,
  };
}

async function startService(
  rt: "deno" | "bun",
  otlp: string,
): Promise<{ child: Child; base: string }> {
  const child = spawnScript(MAIN, {
    runtime: rt,
    env: {
      PORT: "0",
      CQI_AUTH_API_KEYS: `e2e:${KEY}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
      // pinned, so that nothing inherited from the parent redirects the export
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    },
  });
  try {
    const line = await child.line((l) => {
      try {
        return JSON.parse(l).message === "listening";
      } catch {
        return false;
      }
    }, 30_000);
    const port = new URL(JSON.parse(line).url).port;
    return { child, base: `http://127.0.0.1:${port}` };
  } catch (error) {
    child.signal("SIGKILL");
    throw error;
  }
}

async function json(res: Response): Promise<Record<string, unknown>> {
  assert.match(res.headers.get("content-type") ?? "", /json/);
  return await res.json();
}

function put(base: string, id: string, body: string, headers = AUTH) {
  return fetch(`${base}/api/positions/${id}`, {
    method: "PUT",
    body,
    headers: { ...headers, "content-type": "application/json" },
  });
}

async function checkContract(base: string): Promise<void> {
  // 401 without a key and with a wrong one
  const wrongKey = { authorization: "Bearer not-the-key-000000" };
  for (const headers of [{}, wrongKey] as Record<string, string>[]) {
    const res = await fetch(`${base}/api/positions/p1`, { headers });
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer\b/);
    assert.equal((await json(res)).code, "UNAUTHORIZED");
  }

  // 400 naming every bad field
  const bad = await put(base, "p1", '{"assetId":"","quantity":"lots"}');
  assert.equal(bad.status, 400);
  const badBody = await json(bad);
  assert.equal(badBody.code, "INVALID_INPUT");
  assert.deepEqual(Object.keys(badBody.fields as object).sort(), [
    "assetId",
    "quantity",
  ]);
  assert.match(String(badBody.error), /assetId/);
  assert.match(String(badBody.error), /quantity/);

  // 400 for a body that is not JSON
  const notJson = await put(base, "p1", "{oops");
  assert.equal(notJson.status, 400);
  assert.equal((await json(notJson)).code, "INVALID_INPUT");

  // 404, then PUT and GET round trip
  const missing = await fetch(`${base}/api/positions/p1`, { headers: AUTH });
  assert.equal(missing.status, 404);
  assert.equal((await json(missing)).code, "NOT_FOUND");
  const stored = await put(base, "p1", '{"assetId":"BTC","quantity":1.5}');
  assert.equal(stored.status, 200);
  assert.deepEqual(await json(stored), { assetId: "BTC", quantity: 1.5 });
  const got = await fetch(`${base}/api/positions/p1`, { headers: AUTH });
  assert.equal(got.status, 200);
  assert.deepEqual(await json(got), { assetId: "BTC", quantity: 1.5 });
  // read again: from the cache (the metrics below count the hit)
  const again = await fetch(`${base}/api/positions/p1`, { headers: AUTH });
  assert.deepEqual(await json(again), { assetId: "BTC", quantity: 1.5 });

  // health without a key
  for (const path of ["/health/live", "/health/ready"]) {
    const res = await fetch(`${base}${path}`);
    assert.equal(res.status, 200, path);
    assert.equal((await json(res)).status, "healthy", path);
  }

  // metrics by route pattern, never by raw path
  const metrics = await fetch(`${base}/metrics`);
  assert.equal(metrics.status, 200);
  const text = await metrics.text();
  assert.match(
    text,
    /quickstart_http_request_count_total\{[^}]*path="\/api\/positions\/:id"/,
  );
  assert.ok(!text.includes("/api/positions/p1"), "raw paths are no labels");
  assert.match(
    text,
    /quickstart_cache_requests_total\{cache="main",namespace="position",result="hit",tier="l1"\} [1-9]/,
  );
  assert.ok(!text.includes('"p1"'), "keys are no labels");
}

/**
 * A put publishes its PositionChanged (through the outbox) and the
 * subscriber handles it; GetPosition answers over Connect on the same port,
 * behind the same key, logged and counted once as a gRPC call.
 */
async function checkEventsAndGrpc(child: Child, base: string): Promise<void> {
  const stored = await put(base, "e1", '{"assetId":"ETH","quantity":2}');
  assert.equal(stored.status, 200);
  await stored.body?.cancel();
  const handled = JSON.parse(
    await child.line((l) =>
      /"position event handled".*"position_id":"e1"/.test(l)
    ),
  );
  assert.match(handled.event_id, /^[0-9a-f-]{36}$/);
  assert.equal(handled.invalidated, true);

  const call = (id: string, headers: Record<string, string> = AUTH) =>
    fetch(`${base}/cqc.quickstart.v1.PositionService/GetPosition`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ id }),
    });
  const got = await call("e1");
  assert.equal(got.status, 200);
  assert.deepEqual(await got.json(), {
    position: { id: "e1", assetId: "ETH", quantity: 2 },
  });
  const missing = await call("nope");
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).code, "not_found");
  const anonymous = await call("e1", {});
  assert.equal(anonymous.status, 401);
  assert.equal((await anonymous.json()).code, "unauthenticated");

  const rpcLines = () =>
    child.lines.filter((l) => l.includes('"rpc_method":"GetPosition"'));
  await child.line(() => rpcLines().length >= 3);
  assert.equal(rpcLines().length, 3, "one access line a call");
  const text = await (await fetch(`${base}/metrics`)).text();
  assert.match(
    text,
    /quickstart_grpc_call_count_total\{[^}]*code="NOT_FOUND"[^}]*\} 1/,
  );
  assert.ok(
    !/quickstart_http_request_count_total\{[^}]*PositionService/.test(text),
    "gRPC calls are not counted as HTTP requests too",
  );
}

async function checkTraceparent(base: string): Promise<void> {
  const traceId = crypto.randomUUID().replaceAll("-", "");
  const parentId = traceId.slice(0, 16);
  const res = await fetch(`${base}/api/positions/p1`, {
    headers: { ...AUTH, traceparent: `00-${traceId}-${parentId}-01` },
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const returned = res.headers.get("traceparent") ?? "";
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(returned);
  assert.ok(match, `response traceparent: "${returned}"`);
  assert.equal(match[1], traceId, "same trace id");
  assert.notEqual(match[2], parentId, "the server span's own id");
}

type Outcome =
  | { kind: "response"; status: number; body: unknown }
  | { kind: "truncated"; status: number; error: unknown }
  | { kind: "connection"; error: unknown; afterSignal: boolean }
  | { kind: "timeout"; error: unknown };

/**
 * 10 workers, each doing sequential PUT/GET on keep-alive connections, until
 * a connection fails (after SIGTERM), 60 rounds pass or 20 s pass.
 */
async function signalUnderLoad(child: Child, base: string): Promise<void> {
  const outcomes: Outcome[] = [];
  let responses = 0;
  let signalled = false;
  let reached!: () => void;
  const fifty = new Promise<void>((resolve) => reached = resolve);
  const deadline = Date.now() + 20_000;

  const send = async (url: string, init: RequestInit): Promise<Outcome> => {
    let res: Response;
    try {
      res = await fetch(url, {
        ...init,
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      const name = (error as Error)?.name;
      if (name === "TimeoutError" || name === "AbortError") {
        return { kind: "timeout", error };
      }
      return { kind: "connection", error, afterSignal: signalled };
    }
    try {
      const body = JSON.parse(await res.text());
      if (++responses >= 50) reached();
      return { kind: "response", status: res.status, body };
    } catch (error) {
      return { kind: "truncated", status: res.status, error };
    }
  };

  const worker = async (w: number) => {
    for (let round = 0; round < 60 && Date.now() < deadline; round++) {
      const value = { assetId: `W${w}`, quantity: round };
      const url = `${base}/api/positions/w${w}`;
      for (
        const init of [
          {
            method: "PUT",
            body: JSON.stringify(value),
            headers: { ...AUTH, "content-type": "application/json" },
          },
          { headers: AUTH },
        ]
      ) {
        const outcome = await send(url, init);
        outcomes.push(outcome);
        if (outcome.kind !== "response") return;
        if (outcome.status === 200) assert.deepEqual(outcome.body, value);
      }
    }
  };
  const load = Promise.all(Array.from({ length: 10 }, (_, w) => worker(w)));

  await within(Promise.race([fifty, load]), 20_000, "50 responses");
  assert.ok(responses >= 50, `only ${responses} responses before the signal`);
  signalled = true;
  child.signal("SIGTERM");
  await within(load, 30_000, "the load after SIGTERM");
  await within(
    child.line((l) => l.includes('"stopped"'), 30_000),
    30_000,
    "the stop line",
  );
  const code = await within(child.exited, 30_000, "the exit");

  for (const outcome of outcomes) {
    assert.notEqual(
      outcome.kind,
      "truncated",
      String(
        outcome.kind === "truncated" && outcome.error,
      ),
    );
    assert.notEqual(outcome.kind, "timeout", "a request hung");
    if (outcome.kind === "response") assert.equal(outcome.status, 200);
    if (outcome.kind === "connection") {
      assert.ok(outcome.afterSignal, `failed before SIGTERM: ${outcome.error}`);
      // fetch reports a refused or reset connection as a TypeError
      assert.ok(outcome.error instanceof TypeError, String(outcome.error));
    }
  }
  const answered = outcomes.filter((o) => o.kind === "response").length;
  assert.ok(answered >= 50, `${answered} complete responses`);
  assert.equal(code, 0, "exit code");
  const records = child.lines.map((l) => JSON.parse(l));
  const stopped = records.find((r) => r.message === "stopped");
  assert.equal(stopped?.clean, true);
  assert.equal(records.at(-1).message, "runner: stopped", "the last line");
}

describe("quickstart end to end (issue 9)", () => {
  for (const rt of ["deno", "bun"] as const) {
    it(`on ${rt}: contract, trace context, metrics, SIGTERM under load`, {
      timeout: 90_000,
    }, async () => {
      const receiver = otlpReceiver();
      let child: Child | undefined;
      try {
        const started = await startService(rt, receiver.url);
        child = started.child;
        await checkContract(started.base);
        await checkEventsAndGrpc(started.child, started.base);
        await checkTraceparent(started.base);
        await signalUnderLoad(child, started.base);
        // the shutdown hook flushed the spans to the receiver
        assert.ok(receiver.exports() >= 1, "spans reached the OTLP receiver");
      } finally {
        child?.signal("SIGKILL"); // only matters when an assertion failed
        await receiver.server.shutdown();
      }
    });
  }
});
