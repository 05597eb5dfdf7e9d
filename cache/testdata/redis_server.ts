// Redis for the cache tests: the machine's shared server (never restarted,
// never flushed: tests use keys of their own and delete them), and private
// servers a test may kill, pause and start again on the same port.
import { Buffer } from "node:buffer";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import process from "node:process";
import { closedPort, requireBackend, tcpReachable } from "../../tests/_util.ts";

/** The shared server's URL (`REDIS_URL` overrides it). */
export const REDIS_URL: string = process.env.REDIS_URL ??
  "redis://127.0.0.1:6379";

/** Whether the shared server accepts connections. */
export function redisReachable(): Promise<boolean> {
  const url = new URL(REDIS_URL);
  return tcpReachable(url.hostname, Number(url.port || 6379));
}

/** Skips the test (fails it under CI=true) when the shared server is absent. */
export function requireRedis(
  t: { skip(message?: string): void },
): Promise<boolean> {
  return requireBackend(
    t,
    `Redis at ${new URL(REDIS_URL).host}`,
    redisReachable,
  );
}

/** Whether `redis-server` can be started (for private servers). */
export async function redisServerInstalled(): Promise<boolean> {
  const child = spawn("redis-server", ["--version"], { stdio: "ignore" });
  const [code] = await Promise.race([
    once(child, "exit"),
    once(child, "error").then(() => [-1]),
  ]);
  return code === 0;
}

/**
 * Skips the test (fails it under CI=true) when `redis-server` is not
 * installed, which a private server needs.
 */
export function requireRedisServer(
  t: { skip(message?: string): void },
): Promise<boolean> {
  return requireBackend(t, "redis-server (binary)", redisServerInstalled);
}

/** A private redis-server on a loopback port of its own. */
export interface PrivateRedis {
  /** `redis://[:password@]127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** Kills the server with SIGKILL (no goodbye to clients); resolves on exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port; resolves once it accepts clients. */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing is answered. */
  pause(): void;
  /** SIGCONT after {@linkcode PrivateRedis.pause}. */
  resume(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a redis-server (no persistence) on a free loopback port, with
 * `requirepass` when `password` is given.
 */
export async function privateRedis(
  options: { password?: string } = {},
): Promise<PrivateRedis> {
  const port = await closedPort();
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
    ...(options.password ? ["--requirepass", options.password] : []),
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();

  const start = async () => {
    if (child) throw new Error("redis-server is already running");
    const proc = spawn("redis-server", args, {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    exited = once(proc, "exit");
    const output: string[] = [];
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`redis-server not ready:\n${output.join("\n")}`)),
        10_000,
      );
      const onLine = (line: string) => {
        output.push(line);
        if (line.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      };
      createInterface({ input: proc.stdout! }).on("line", onLine);
      createInterface({ input: proc.stderr! }).on("line", onLine);
      exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited:\n${output.join("\n")}`));
      });
    });
    try {
      await ready;
    } catch (error) {
      child = undefined;
      throw error;
    }
  };

  const kill = async () => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    process.kill(proc.pid!, "SIGKILL"); // kills a stopped process too
    await exited;
  };

  const signal = (name: "SIGSTOP" | "SIGCONT") => {
    if (child?.pid !== undefined) process.kill(child.pid, name);
  };

  await start();
  const auth = options.password
    ? `:${encodeURIComponent(options.password)}@`
    : "";
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    kill,
    start,
    // process.kill: Deno's ChildProcess.kill sends one signal only
    pause: () => signal("SIGSTOP"),
    resume: () => signal("SIGCONT"),
    [Symbol.asyncDispose]: kill,
  };
}

/** A reply of {@linkcode redisCommand}: RESP2 types, bulk strings as text. */
export type Reply = string | number | null | Error | Reply[];

/**
 * Runs one command on a connection of its own (AUTH and SELECT from the
 * URL first), for tests that look at the server behind a driver's back.
 * An error reply resolves as an Error; a connection failure rejects.
 */
export async function redisCommand(
  url: string,
  ...args: (string | number)[]
): Promise<Reply> {
  const parsed = new URL(url);
  const commands: (string | number)[][] = [];
  if (parsed.password) {
    commands.push([
      "AUTH",
      ...(parsed.username ? [decodeURIComponent(parsed.username)] : []),
      decodeURIComponent(parsed.password),
    ]);
  }
  const db = parsed.pathname.replace(/^\//, "");
  if (db) commands.push(["SELECT", db]);
  commands.push(args);
  const socket = connect({
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
  });
  try {
    await Promise.race([
      once(socket, "connect"),
      once(socket, "error").then(([e]) => Promise.reject(e)),
    ]);
    socket.write(commands.map(encode).join(""));
    let buffer = Buffer.alloc(0);
    const replies: Reply[] = [];
    for await (const chunk of socket) {
      buffer = Buffer.concat([buffer, chunk as Buffer]);
      let offset = 0;
      for (;;) {
        const parsedReply = decode(buffer, offset);
        if (!parsedReply) break;
        replies.push(parsedReply[0]);
        offset = parsedReply[1];
      }
      buffer = buffer.subarray(offset);
      if (replies.length === commands.length) break;
    }
    if (replies.length < commands.length) throw new Error("connection closed");
    const failed = replies.slice(0, -1).find((r) => r instanceof Error);
    if (failed) throw failed;
    return replies[replies.length - 1];
  } finally {
    socket.destroy();
  }
}

function encode(args: (string | number)[]): string {
  return `*${args.length}\r\n` +
    args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join("");
}

// One RESP2 reply at offset: [reply, next offset], or undefined if partial.
function decode(buffer: Buffer, offset: number): [Reply, number] | undefined {
  const end = buffer.indexOf("\r\n", offset);
  if (end < 0) return undefined;
  const type = String.fromCharCode(buffer[offset]);
  const line = buffer.toString("utf8", offset + 1, end);
  const next = end + 2;
  switch (type) {
    case "+":
      return [line, next];
    case "-":
      return [new Error(line), next];
    case ":":
      return [Number(line), next];
    case "$": {
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buffer.length < next + length + 2) return undefined;
      return [buffer.toString("utf8", next, next + length), next + length + 2];
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = decode(buffer, at);
        if (!item) return undefined;
        items.push(item[0]);
        at = item[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`unexpected RESP type ${type}`);
  }
}
