import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyMiddleware, serve } from "@cqi/http";
import { apiKey } from "@cqi/auth";
import { createLogger, memorySink } from "@cqi/logging";
import { createRegistry, metricsHandler } from "@cqi/metrics";
import { httpStack } from "@cqi/service";
import { createApp } from "./app.ts";
import { createDatabase, type Database, migrate } from "@cqi/database";
import { databaseStore } from "./store.ts";
import { spawnScript } from "../../tests/_util.ts";

const KEY = "qs-app-test-key-0123456789";
const auth = { authorization: `Bearer ${KEY}` };
const get = (url: string) => fetch(url, { headers: auth });

// One PGlite instance for the file (it takes seconds to start), with the
// quickstart's own migrations.
let db: Database;
before(async () => {
  db = createDatabase("pglite://");
  await migrate(db, new URL("./migrations/", import.meta.url));
}, { timeout: 60_000 });
after(() => db.close());

async function withApp(fn: (base: string) => Promise<void>) {
  const logger = createLogger({ output: memorySink() });
  const registry = createRegistry({ service: { name: "quickstart" } });
  const app = createApp({
    store: databaseStore(db),
    auth: apiKey({ keys: [{ id: "t", key: KEY, serviceId: "tests" }] }),
    routes: { "GET /metrics": metricsHandler({ registry }) },
  });
  await using server = serve(
    applyMiddleware(app, httpStack({ logger, registry })),
    {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
    },
  );
  await fn(`http://127.0.0.1:${server.addr.port}`);
}

const put = (url: string, body: string) =>
  fetch(url, {
    method: "PUT",
    body,
    headers: { "content-type": "application/json", ...auth },
  });

describe("quickstart position API", () => {
  it("stores a position and returns it as it was put", async () => {
    await withApp(async (base) => {
      const body = { assetId: "BTC", quantity: 1.5 };
      const res = await put(`${base}/api/positions/p1`, JSON.stringify(body));
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), body);
      const got = await get(`${base}/api/positions/p1`);
      assert.equal(got.status, 200);
      assert.deepEqual(await got.json(), body);
    });
  });

  it("refuses ids over 256 characters and long asset ids before writing", async () => {
    await withApp(async (base) => {
      const long = "x".repeat(257);
      const res = await put(
        `${base}/api/positions/${long}`,
        '{"assetId":"BTC","quantity":1}',
      );
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), {
        error: "position id must be 1 to 256 characters",
        code: "INVALID_INPUT",
      });
      const got = await get(`${base}/api/positions/${long}`);
      assert.equal(got.status, 400);
      await got.body?.cancel();
      const rows = await db.query("select 1 from positions where id = $1", [
        long,
      ]);
      assert.equal(rows.length, 0);
      const asset = await put(
        `${base}/api/positions/p-long-asset`,
        JSON.stringify({ assetId: "A".repeat(65), quantity: 1 }),
      );
      assert.equal(asset.status, 400);
      assert.match((await asset.json()).error, /assetId/);
    });
  });

  it("answers 404 NOT_FOUND for an unknown position", async () => {
    await withApp(async (base) => {
      const res = await get(`${base}/api/positions/nope`);
      assert.equal(res.status, 404);
      assert.deepEqual(await res.json(), {
        error: 'position "nope" not found',
        code: "NOT_FOUND",
      });
    });
  });

  it("answers 400 INVALID_INPUT naming every bad field", async () => {
    await withApp(async (base) => {
      const res = await put(
        `${base}/api/positions/p1`,
        '{"assetId": 7, "quantity": "ten"}',
      );
      assert.equal(res.status, 400);
      const body = await res.json();
      assert.equal(body.code, "INVALID_INPUT");
      assert.match(body.error, /assetId/);
      assert.match(body.error, /quantity/);
      assert.deepEqual(Object.keys(body.fields).sort(), [
        "assetId",
        "quantity",
      ]);
      const missing = await (await put(`${base}/api/positions/p1`, "{}"))
        .json();
      assert.deepEqual(Object.keys(missing.fields).sort(), [
        "assetId",
        "quantity",
      ]);
    });
  });

  it("answers 400 for a body that is not JSON, and stores nothing", async () => {
    await withApp(async (base) => {
      const res = await put(`${base}/api/positions/p2`, "{oops");
      assert.equal(res.status, 400);
      assert.equal((await res.json()).code, "INVALID_INPUT");
      assert.equal((await get(`${base}/api/positions/p2`)).status, 404);
    });
  });
});

describe("quickstart metrics", () => {
  it("exposes per-route HTTP metrics at /metrics", async () => {
    await withApp(async (base) => {
      await (await get(`${base}/api/positions/a1`)).body?.cancel();
      await (await get(`${base}/api/positions/a2`)).body?.cancel();
      const refused = await fetch(`${base}/api/positions/a1`); // no key
      assert.equal(refused.status, 401);
      await refused.body?.cancel();
      const text = await (await fetch(`${base}/metrics`)).text();
      assert.match(
        text,
        /quickstart_http_request_count_total\{[^}]*path="\/api\/positions\/:id"[^}]*status_code="401"[^}]*\} 1/,
        "a refused request to a real route keeps its route label",
      );
      assert.match(
        text,
        /quickstart_http_response_size_bytes_count\{[^}]*path="\/api\/positions\/:id"[^}]*status_code="404"[^}]*\} 2/,
        "JSON answers have a size",
      );
      assert.match(
        text,
        /quickstart_http_request_count_total\{[^}]*path="\/api\/positions\/:id"[^}]*status_code="404"[^}]*\} 2/,
      );
      assert.match(
        text,
        /quickstart_http_recovered_errors_total\{error_type="not_found"\} 2/,
      );
      assert.ok(
        !text.includes("/api/positions/a1"),
        "raw paths never become labels",
      );
    });
  });
});

describe("quickstart main (child process)", () => {
  it(
    "needs an API key for /api, keeps health and metrics open, exits 0 on SIGTERM",
    { timeout: 60_000 },
    async () => {
      const child = spawnScript(new URL("./main.ts", import.meta.url), {
        env: { PORT: "0", CQI_AUTH_API_KEYS: "tests:qs-test-key-0123456789" },
      });
      const line = await child.line((l) => l.includes('"listening"'));
      const base = `http://127.0.0.1:${new URL(JSON.parse(line).url).port}`;
      const key = { authorization: "Bearer qs-test-key-0123456789" };

      const denied = await fetch(`${base}/api/positions/x`);
      assert.equal(denied.status, 401);
      assert.equal((await denied.json()).code, "UNAUTHORIZED");

      const res = await fetch(`${base}/api/positions/x`, {
        method: "PUT",
        body: '{"assetId":"ETH","quantity":2}',
        headers: key,
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();

      for (const path of ["/health/live", "/health/ready", "/metrics"]) {
        const open = await fetch(`${base}${path}`);
        assert.equal(open.status, 200, path);
        await open.body?.cancel();
      }

      child.signal("SIGTERM");
      assert.equal(await child.exited, 0);
      const records = child.lines.map((l) => JSON.parse(l));
      const access = records.find((r) =>
        r.message === "request completed" && r.method === "PUT"
      );
      assert.equal(access.route, "/api/positions/:id");
      assert.equal(access.status, 200);
      assert.equal(access.service_id, "tests");
      assert.ok(
        !child.lines.some((l) => l.includes("qs-test-key")),
        "the key never reaches a log",
      );
      const stopped = records.find((r) => r.message === "stopped");
      assert.equal(stopped?.clean, true);
      assert.equal(records.at(-1).message, "runner: stopped", "nothing after");
    },
  );
});
