// The NATS servers the bus tests use: the shared one answers, and a private
// one survives a SIGKILL (same port, same JetStream store) and cleans up.
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { tcpReachable } from "../../tests/_util.ts";
import {
  NATS_SERVERS,
  natsInfo,
  natsReachable,
  privateNats,
  requireNats,
  requireNatsInstalled,
} from "./nats_server.ts";

describe("NATS test servers", () => {
  it("the shared server greets with INFO and has JetStream", async (t) => {
    if (!await requireNats(t)) return;
    assert.equal(await natsReachable(), true);
    const info = await natsInfo(NATS_SERVERS[0]);
    assert.equal(typeof info.server_id, "string");
    assert.equal(info.jetstream, true, JSON.stringify(info));
  });

  it(
    "a private server starts, is killed, starts again on its port and store, and is disposed of",
    { timeout: 60_000 },
    async (t) => {
      if (!await requireNatsInstalled(t)) return;
      let dir: string;
      {
        await using nats = await privateNats();
        dir = nats.dir;
        assert.equal(nats.url, `nats://127.0.0.1:${nats.port}`);
        assert.equal(nats.running, true);
        const info = await natsInfo(`127.0.0.1:${nats.port}`);
        assert.equal(info.port, nats.port);
        assert.equal(info.jetstream, true);

        const before = await connect({ servers: nats.url });
        try {
          const jsm = await jetstreamManager(before);
          await jsm.streams.add({
            name: "kept",
            subjects: ["kept.>"],
            storage: StorageType.File,
          });
          const ack = await jsm.jetstream().publish("kept.one", "survives");
          assert.equal(ack.seq, 1);
        } finally {
          await before.close();
        }

        await nats.kill();
        assert.equal(nats.running, false);
        assert.equal(await tcpReachable("127.0.0.1", nats.port), false);

        await nats.start();
        assert.equal(nats.running, true);
        const after = await connect({ servers: nats.url });
        try {
          const jsm = await jetstreamManager(after);
          const stream = await jsm.streams.info("kept");
          assert.equal(stream.config.storage, StorageType.File);
          assert.equal(stream.state.messages, 1);
          const stored = await jsm.streams.getMessage("kept", { seq: 1 });
          assert.equal(stored?.subject, "kept.one");
          assert.equal(stored?.string(), "survives");
        } finally {
          await after.close();
        }
      }
      await assert.rejects(stat(dir), { code: "ENOENT" });
    },
  );

  it("stop ends a private server cleanly, and start brings it back", async (t) => {
    if (!await requireNatsInstalled(t)) return;
    await using nats = await privateNats();
    await nats.stop();
    assert.equal(nats.running, false);
    assert.equal(await tcpReachable("127.0.0.1", nats.port), false);
    await nats.start();
    assert.equal((await natsInfo(`127.0.0.1:${nats.port}`)).port, nats.port);
  });
});
