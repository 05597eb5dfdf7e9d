import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serve } from "@cqi/http";
import { createApp } from "./app.ts";
import { memoryStore } from "./store.ts";
import { spawnScript } from "../../tests/_util.ts";

async function withApp(fn: (base: string) => Promise<void>) {
  await using server = serve(createApp({ store: memoryStore() }), {
    port: 0,
    hostname: "127.0.0.1",
    handleSignals: false,
  });
  await fn(`http://127.0.0.1:${server.addr.port}`);
}

const put = (url: string, body: string) =>
  fetch(url, {
    method: "PUT",
    body,
    headers: { "content-type": "application/json" },
  });

describe("quickstart position API", () => {
  it("stores a position and returns it as it was put", async () => {
    await withApp(async (base) => {
      const body = { assetId: "BTC", quantity: 1.5 };
      const res = await put(`${base}/api/positions/p1`, JSON.stringify(body));
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), body);
      const got = await fetch(`${base}/api/positions/p1`);
      assert.equal(got.status, 200);
      assert.deepEqual(await got.json(), body);
    });
  });

  it("answers 404 NOT_FOUND for an unknown position", async () => {
    await withApp(async (base) => {
      const res = await fetch(`${base}/api/positions/nope`);
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
      assert.equal((await fetch(`${base}/api/positions/p2`)).status, 404);
    });
  });
});

describe("quickstart main (child process)", () => {
  it("starts on PORT, serves, and exits 0 on SIGTERM", async () => {
    const child = spawnScript(new URL("./main.ts", import.meta.url), {
      env: { PORT: "0" },
    });
    const line = await child.line((l) =>
      l.startsWith("quickstart listening on")
    );
    const port = new URL(line.split(" ").at(-1)!).port;
    const res = await put(
      `http://127.0.0.1:${port}/api/positions/x`,
      '{"assetId":"ETH","quantity":2}',
    );
    assert.equal(res.status, 200);
    await res.body?.cancel();
    child.signal("SIGTERM");
    assert.equal(await child.exited, 0);
    assert.equal(child.lines.at(-1), "quickstart stopped");
  });
});
