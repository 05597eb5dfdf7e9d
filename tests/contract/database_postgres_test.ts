// The database contract on the machine's PostgreSQL (127.0.0.1:5432, database
// `test`). Without one it is skipped locally and fails under CI=true.
import { test } from "node:test";
import { createDatabase } from "@cqi/database";
import {
  POSTGRES_URL,
  postgresReachable,
} from "../../database/testdata/postgres.ts";
import { databaseContract } from "./database.ts";

const host = new URL(POSTGRES_URL).host;
if (await postgresReachable()) {
  databaseContract(
    "postgres",
    (hooks) => createDatabase(POSTGRES_URL, { ...hooks, maxConnections: 4 }),
  );
} else if (process.env.CI === "true") {
  throw new Error(
    `PostgreSQL at ${host} is not reachable, and CI=true requires it`,
  );
} else {
  test("database contract: postgres", (t) =>
    t.skip(`PostgreSQL at ${host} is not reachable`));
}
