// PostgreSQL for the database tests: the machine's shared server (never
// restarted), and private servers a test may stop and start.
import { execFile } from "node:child_process";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { closedPort, requireBackend, tcpReachable } from "../../tests/_util.ts";

const run = promisify(execFile);

/** The shared server's URL (`CQI_TEST_POSTGRES_URL` overrides it). */
export const POSTGRES_URL = process.env.CQI_TEST_POSTGRES_URL ??
  "postgres://postgres@127.0.0.1:5432/test";

/** Whether the shared server accepts connections. */
export function postgresReachable(): Promise<boolean> {
  const url = new URL(POSTGRES_URL);
  return tcpReachable(url.hostname, Number(url.port || 5432));
}

/** Skips the test (fails it under CI=true) when the shared server is absent. */
export function requirePostgres(
  t: { skip(message?: string): void },
): Promise<boolean> {
  return requireBackend(
    t,
    `PostgreSQL at ${new URL(POSTGRES_URL).host}`,
    postgresReachable,
  );
}

/** A private PostgreSQL server in a temporary directory. */
export interface PrivateServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates and starts a server of the test's own on a free loopback port
 * (initdb and pg_ctl as the postgres user, which PostgreSQL requires).
 */
export async function privateServer(): Promise<PrivateServer> {
  const dir = await mkdtemp(join(tmpdir(), "cqi-pg-"));
  const data = join(dir, "data");
  const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
  const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
  await chown(dir, uid, gid);
  const asPostgres = (cmd: string, args: string[]) =>
    run("runuser", ["-u", "postgres", "--", cmd, ...args]);
  await asPostgres("initdb", [
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    "postgres",
    "--no-sync",
  ]);
  const port = await closedPort();
  const options =
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=20`;
  const start = async () => {
    await asPostgres("pg_ctl", [
      "-D",
      data,
      "-o",
      options,
      "-l",
      join(dir, "log"),
      "-w",
      "start",
    ]);
  };
  const stop = async () => {
    await asPostgres("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    async [Symbol.asyncDispose]() {
      await stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
