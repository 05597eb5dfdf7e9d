// NATS for the bus tests: the machine's shared server (JetStream on
// 127.0.0.1:4222; never restarted, never reconfigured: tests use streams,
// subjects and consumers of their own), and private servers a test may kill
// and start again on the same port and store. A private server is a
// `nats-server` process of the test's own.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { get } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, before } from "node:test";
import {
  connect as natsConnect,
  type NatsConnection,
} from "@nats-io/transport-node";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { closedPort, requireBackend } from "../../tests/_util.ts";
import { hostPort } from "./kafka_server.ts";
import { ServerProcess } from "./server_process.ts";

const BINARY = "nats-server";

/**
 * The shared server's `host:port` list (`NATS_SERVERS`, comma-separated,
 * overrides it).
 */
export const NATS_SERVERS: string[] = (process.env.NATS_SERVERS ?? "")
  .split(",")
  .map((server) => server.trim())
  .filter((server) => server !== "");
if (NATS_SERVERS.length === 0) NATS_SERVERS.push("127.0.0.1:4222");

/** What a server says in the `INFO {...}` line it greets a client with. */
export interface NatsInfo {
  server_id: string;
  version: string;
  port: number;
  jetstream?: boolean;
  [field: string]: unknown;
}

/**
 * Connects to `address` (`host:port`) and reads the server's `INFO` line.
 * Rejects on a connection failure, anything else, or after `timeoutMs`.
 */
export async function natsInfo(
  address: string,
  timeoutMs = 1_000,
): Promise<NatsInfo> {
  const socket = connect(hostPort(address));
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error("timed out")));
  try {
    let text = "";
    for await (const chunk of socket) {
      text += String(chunk);
      const end = text.indexOf("\r\n");
      if (end < 0) continue;
      const line = text.slice(0, end);
      if (!line.startsWith("INFO ")) {
        throw new Error(`${address} greeted with ${JSON.stringify(line)}`);
      }
      return JSON.parse(line.slice(5)) as NatsInfo;
    }
    throw new Error(`${address} closed the connection`);
  } finally {
    socket.destroy();
  }
}

/** Whether the first shared server accepts a connection and sends `INFO`. */
export function natsReachable(): Promise<boolean> {
  return natsInfo(NATS_SERVERS[0]).then(() => true, () => false);
}

/** Skips the test (fails it under CI=true) when the shared server is absent. */
export function requireNats(
  t: { skip(message?: string): void },
): Promise<boolean> {
  return requireBackend(t, `NATS at ${NATS_SERVERS[0]}`, natsReachable);
}

let installed: Promise<boolean> | undefined;

/** Whether a private server can be started (`nats-server --version` runs). */
export function natsInstalled(): Promise<boolean> {
  installed ??= new Promise((resolve) => {
    const child = spawn(BINARY, ["--version"], { stdio: "ignore" });
    child.once("error", () => resolve(false));
    child.once("exit", (code) => resolve(code === 0));
  });
  return installed;
}

/**
 * Skips the test (fails it under CI=true) when `nats-server` cannot be run.
 */
export function requireNatsInstalled(
  t: { skip(message?: string): void },
): Promise<boolean> {
  return requireBackend(
    t,
    "nats-server (for a private NATS server)",
    natsInstalled,
  );
}

/** A private NATS server with JetStream on loopback ports of its own. */
export interface PrivateNats {
  /** `nats://127.0.0.1:<port>`, for a client's `servers`. */
  url: string;
  /** The client port. */
  port: number;
  /** The HTTP monitoring port (`/healthz`, `/jsz`, ...). */
  monitorPort: number;
  /** Its store folder (`-sd`): streams and consumers survive restarts. */
  dir: string;
  /** The server's last output lines (at most 500), for failure messages. */
  output: string[];
  /** Whether the process is up (started, and not exited since). */
  readonly running: boolean;
  /** SIGKILL; resolves once the process has exited. */
  kill(): Promise<void>;
  /**
   * Starts it again on the same ports and store. Resolves once it serves
   * with JetStream ready; retries while a port is still taken.
   */
  start(): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s); resolves once the process has exited. */
  stop(): Promise<void>;
  /** Stops it and removes its folder. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `nats-server -js` of the test's own: free loopback ports, a
 * temporary store folder. Resolves once it serves with JetStream ready (its
 * `/healthz?js-enabled-only=true` answers 200 and the client port greets
 * with `INFO`). Use it with `await using`: disposing stops the server and
 * removes the folder; a server whose test process dies is killed by a
 * watchdog.
 */
export async function privateNats(
  options: {
    startTimeoutMs?: number;
    /** More server flags, such as `["--auth", "token"]`. */
    args?: string[];
  } = {},
): Promise<PrivateNats> {
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const port = await closedPort();
  let monitorPort = await closedPort();
  while (monitorPort === port) monitorPort = await closedPort();
  const dir = await mkdtemp(join(tmpdir(), "cqi-nats-"));
  const args = [
    "-js",
    ...["-a", "127.0.0.1", "-p", `${port}`, "-m", `${monitorPort}`],
    ...["-sd", dir],
    ...options.args ?? [],
  ];
  const address = `127.0.0.1:${port}`;
  const server = new ServerProcess("nats", `private NATS on ${address}`);
  let portTaken = false; // by the last process started
  const spawnServer = () => {
    portTaken = false;
    server.spawn(BINARY, args, (line) => {
      if (line.includes("address already in use")) portTaken = true;
    });
  };
  const kill = () => server.kill();
  const stop = () => server.stop(10_000);

  const start = async () => {
    if (server.spawned) {
      throw new Error("the private NATS server is running already");
    }
    const deadline = performance.now() + startTimeoutMs;
    try {
      server.output.length = 0;
      spawnServer();
      let retried = false;
      for (;;) {
        if (server.running && await ready(monitorPort, address)) return;
        if (!server.running) {
          await server.reap();
          if (!portTaken) throw server.describe("exited during startup");
        }
        if (performance.now() > deadline) {
          throw server.describe(
            retried
              ? `found a port taken for ${startTimeoutMs} ms`
              : `did not serve with JetStream in ${startTimeoutMs} ms`,
          );
        }
        if (server.running) {
          await Promise.race([delay(50), server.exited]);
        } else {
          // a port still held (by the killed server's socket, say): again
          await delay(100);
          retried = true;
          spawnServer();
        }
      }
    } catch (error) {
      await kill();
      throw error;
    }
  };

  try {
    await start();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `nats://${address}`,
    port,
    monitorPort,
    dir,
    output: server.output,
    get running() {
      return server.running;
    },
    kill,
    start,
    stop,
    [Symbol.asyncDispose]: async () => {
      try {
        await stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

// JetStream is enabled and ready, and the client port greets.
async function ready(monitorPort: number, address: string): Promise<boolean> {
  const healthy = await new Promise<boolean>((resolve) => {
    const request = get(
      `http://127.0.0.1:${monitorPort}/healthz?js-enabled-only=true`,
      { timeout: 1_000 },
      (response) => {
        response.resume();
        response.once("end", () => resolve(response.statusCode === 200));
      },
    );
    request.once("timeout", () => request.destroy(new Error("timed out")));
    request.once("error", () => resolve(false));
  });
  if (!healthy) return false;
  return await natsInfo(address).then(
    (info) => info.jetstream === true,
    () => false,
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Names for a test file's own streams: each call gives a stream name and a
 * subject root no other test (nor another run) uses, marked with `tag`.
 */
export function streamNames(
  tag: string,
): (label: string) => { stream: string; root: string } {
  const run = `${Date.now().toString(36)}${
    Math.random().toString(36).slice(2, 6)
  }`;
  let n = 0;
  return (label) => {
    const i = n++;
    return {
      stream: `CQI_${tag}_${run}_${label}_${i}`.toUpperCase(),
      root: `cqi.n${tag.toLowerCase()}.${run}.${label}.${i}`,
    };
  };
}

/** A describe block's connection to the shared server (see {@linkcode sharedNats}). */
export interface SharedNats {
  /** Undefined while not connected (the server is away). */
  nc: NatsConnection | undefined;
  /** The JetStream manager, once connected. */
  jsm: JetStreamManager;
  /** Streams to delete after the block. */
  made: string[];
}

/**
 * Connects to the shared server before the calling describe block's tests
 * (staying undefined when it is away: they skip or fail by `requireNats`),
 * and deletes the streams in `made`, then closes, after them.
 */
export function sharedNats(): SharedNats {
  const shared = { nc: undefined, made: [] } as unknown as SharedNats;
  before(async () => {
    try {
      shared.nc = await natsConnect({ servers: NATS_SERVERS, timeout: 2_000 });
      shared.jsm = await jetstreamManager(shared.nc);
    } catch {
      shared.nc = undefined;
    }
  });
  after(async () => {
    for (const name of shared.made) {
      await shared.jsm?.streams.delete(name).catch(() => {});
    }
    await shared.nc?.close();
  });
  return shared;
}
