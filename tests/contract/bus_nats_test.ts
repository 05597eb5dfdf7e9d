// The bus contract on the machine's NATS server with JetStream (127.0.0.1:4222;
// NATS_SERVERS overrides it). The tests' topics live in a stream of their own,
// `CQI_TEST` (`cqi.test.>`, and the derived topics' `cqc.events.v1.>`), whose
// messages go after an hour. Without the server the suite is skipped
// locally and fails under CI=true.
import process from "node:process";
import { test } from "node:test";
import { createBus } from "@cqi/bus";
import { NATS_SERVERS, natsReachable } from "../../bus/testdata/nats_server.ts";
import { busContract } from "./bus.ts";

const url = `nats://${NATS_SERVERS.join(",")}`;
if (await natsReachable()) {
  busContract("nats", () => ({
    open: (options) =>
      createBus(url, {
        ...options,
        nats: {
          stream: "CQI_TEST",
          subjects: ["cqi.test.>", "cqc.events.v1.>"],
          maxAge: 3_600_000,
        },
      }),
  }), { timeout: 60_000, partitions: false });
} else if (process.env.CI === "true") {
  throw new Error(`NATS at ${url} is not reachable, and CI=true requires it`);
} else {
  test("bus contract: nats", (t) => t.skip(`NATS at ${url} is not reachable`));
}
