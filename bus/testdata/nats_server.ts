// NATS for the bus tests: the machine's shared server (JetStream on
// 127.0.0.1:4222; never restarted, never reconfigured: tests use streams,
// subjects and consumers of their own), and private servers a test may kill
// and start again on the same port and store. A private server is a
// `nats-server` process of the test's own.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { get } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { closedPort, requireBackend } from "../../tests/_util.ts";
import { hostPort } from "./kafka_server.ts";

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
  options: { startTimeoutMs?: number } = {},
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
  ];
  const address = `127.0.0.1:${port}`;
  const output: string[] = [];
  let portTaken = false; // by the last process started
  const remember = (line: string) => {
    output.push(line);
    if (output.length > 500) output.shift();
    if (line.includes("address already in use")) portTaken = true;
  };
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let watchdog: ChildProcess | undefined;
  let running = false;

  const signal = (name: "SIGTERM" | "SIGKILL") => {
    // process.kill: Deno's ChildProcess.kill sends one signal only
    if (child?.pid !== undefined) {
      try {
        process.kill(child.pid, name);
      } catch {
        // exited already
      }
    }
  };

  const ended = async () => {
    await exited;
    child = undefined;
    if (watchdog?.pid !== undefined) {
      try {
        process.kill(watchdog.pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    watchdog = undefined;
  };

  const kill = async () => {
    if (!child) return;
    signal("SIGKILL");
    await ended();
  };

  const stop = async () => {
    if (!child) return;
    signal("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), 10_000);
    });
    if (await Promise.race([exited.then(() => false), late])) {
      signal("SIGKILL");
    }
    clearTimeout(timer);
    await ended();
  };

  const spawnServer = () => {
    const proc = spawn(BINARY, args, { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    running = true;
    portTaken = false;
    exited = new Promise<void>((resolve) => {
      // "close": after its output is read, which says why it exited
      proc.once("close", () => resolve());
      proc.once("error", (error) => {
        remember(`spawn ${BINARY}: ${error}`);
        resolve();
      });
    }).then(() => {
      running = false;
    });
    if (proc.pid !== undefined) watchdog = guard(proc.pid);
    createInterface({ input: proc.stdout! }).on("line", remember);
    createInterface({ input: proc.stderr! }).on("line", remember);
  };

  const start = async () => {
    if (child) throw new Error("the private NATS server is running already");
    const deadline = performance.now() + startTimeoutMs;
    const fail = (why: string) =>
      new Error(`private NATS on ${address} ${why}; output:\n${tail(output)}`);
    try {
      output.length = 0;
      spawnServer();
      let retried = false;
      for (;;) {
        if (running && await ready(monitorPort, address)) return;
        if (!running) {
          await ended();
          if (!portTaken) throw fail("exited during startup");
        }
        if (performance.now() > deadline) {
          throw fail(
            retried
              ? `found a port taken for ${startTimeoutMs} ms`
              : `did not serve with JetStream in ${startTimeoutMs} ms`,
          );
        }
        if (running) {
          await Promise.race([delay(50), exited]);
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
    output,
    get running() {
      return running;
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

// Kills `pid` when this process dies without disposing of its server: the
// watchdog's stdin closes with us. Killed itself once the server is gone.
// (The technique of kafka_server.ts.)
function guard(pid: number): ChildProcess {
  const watchdog = spawn(
    "sh",
    [
      "-c",
      'read -r _ || kill -KILL "$1" 2>/dev/null',
      "nats-watchdog",
      `${pid}`,
    ],
    { stdio: ["pipe", "ignore", "ignore"] },
  );
  watchdog.on("error", () => {}); // no sh: no watchdog
  return watchdog;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(lines: string[], count = 60): string {
  return lines.slice(-count).join("\n");
}
