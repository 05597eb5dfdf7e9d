import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { once } from "node:events";
import process from "node:process";
import { requireBackend, tcpReachable } from "./_util.ts";

async function listening() {
  const server = createServer((socket) => socket.end());
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

describe("backend guard", () => {
  it("tcpReachable tells an open port from a closed one", async () => {
    const server = await listening();
    const { port } = server.address() as { port: number };
    assert.equal(await tcpReachable("127.0.0.1", port), true);
    server.close();
    await once(server, "close");
    assert.equal(await tcpReachable("127.0.0.1", port), false);
  });

  it("requireBackend passes through a reachable backend", async () => {
    let skipped = false;
    const ok = await requireBackend(
      { skip: () => skipped = true },
      "x",
      () => Promise.resolve(true),
    );
    assert.equal(ok, true);
    assert.equal(skipped, false);
  });

  it("requireBackend fails under CI=true and skips otherwise", async () => {
    const saved = process.env.CI;
    try {
      process.env.CI = "true";
      await assert.rejects(
        requireBackend(
          { skip: () => {} },
          "kafka",
          () => Promise.resolve(false),
        ),
        /kafka is not reachable, and CI=true requires it/,
      );
      process.env.CI = "false";
      let reason: string | undefined;
      const ok = await requireBackend(
        { skip: (r) => reason = r },
        "kafka",
        () => Promise.resolve(false),
      );
      assert.equal(ok, false);
      assert.equal(reason, "kafka is not reachable");
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });
});
