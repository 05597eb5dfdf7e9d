// The database contract on the machine's PostgreSQL (127.0.0.1:5432, database
// `test`). Without one it is skipped locally and fails under CI=true.
import { test } from "node:test";
import { createDatabase } from "@cqi/database";
import { tcpReachable } from "../_util.ts";
import { databaseContract } from "./database.ts";

export const POSTGRES_URL = process.env.CQI_TEST_POSTGRES_URL ??
  "postgres://postgres@127.0.0.1:5432/test";

const url = new URL(POSTGRES_URL);
if (await tcpReachable(url.hostname, Number(url.port || 5432))) {
  databaseContract(
    "postgres",
    (hooks) => createDatabase(POSTGRES_URL, { ...hooks, maxConnections: 4 }),
  );
} else if (process.env.CI === "true") {
  throw new Error(
    `PostgreSQL at ${url.host} is not reachable, and CI=true requires it`,
  );
} else {
  test("database contract: postgres", (t) =>
    t.skip(`PostgreSQL at ${url.host} is not reachable`));
}
