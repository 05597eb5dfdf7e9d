// Test helpers shared by module tests. Not published.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { connect, createServer } from "node:net";
import process from "node:process";

/** The runtime running this test: "deno" or "bun". */
export const runtime: "deno" | "bun" = "Bun" in globalThis ? "bun" : "deno";

/** Path of a runtime binary installed from npm. */
export function runtimeBinary(name: "deno" | "bun"): string {
  return new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
}

/** A script running in a child process of the given runtime. */
export interface Child {
  process: ChildProcess;
  /**
   * Resolves with the first stdout line that `match` accepts; rejects when
   * the child exits first or after `timeoutMs` (default 15 s).
   */
  line(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Every stdout line so far. */
  lines: string[];
  /** Resolves with the exit code (or signal name) once the process ends. */
  exited: Promise<number | string>;
  /**
   * Sends a signal. (Deno's `ChildProcess.kill` reports the signal it sent
   * as the exit reason even when the child exits normally, so this goes
   * through `process.kill`.)
   */
  signal(name: "SIGTERM" | "SIGINT" | "SIGKILL"): void;
}

/**
 * Starts `script` with `deno run -A` or `bun run`. `denoFlags` replaces
 * Deno's `-A` (e.g. `["--allow-read"]`, or `[]` for no permission).
 */
export function spawnScript(
  script: string | URL,
  options: {
    runtime?: "deno" | "bun";
    env?: Record<string, string>;
    args?: string[];
    denoFlags?: string[];
    /** The child's file-descriptor limit (through util-linux `prlimit`). */
    maxOpenFiles?: number;
  } = {},
): Child {
  const rt = options.runtime ?? runtime;
  const path = script instanceof URL ? script.pathname : script;
  const args = [
    ...(rt === "deno"
      ? ["run", ...(options.denoFlags ?? ["-A"]), path]
      : ["run", path]),
    ...(options.args ?? []),
  ];
  const limit = options.maxOpenFiles;
  const [command, argv] = limit === undefined
    ? [runtimeBinary(rt), args]
    : ["prlimit", [`--nofile=${limit}:${limit}`, runtimeBinary(rt), ...args]];
  const child = spawn(command, argv, {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: string[] = [];
  const waiters: Array<
    { match: (l: string) => boolean; resolve: (l: string) => void }
  > = [];
  const exited = once(child, "exit").then(([code, signal]) =>
    (code ?? signal) as number | string
  );
  createInterface({ input: child.stdout! }).on("line", (line) => {
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  return {
    process: child,
    lines,
    exited,
    signal(name) {
      try {
        process.kill(child.pid!, name);
      } catch {
        // already gone
      }
    },
    line(match, timeoutMs = 15_000) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const fail = (why: string) =>
          reject(new Error(`${why}; output so far:\n${lines.join("\n")}`));
        // a child that never prints the line must fail the test, not hang it
        const timer = setTimeout(
          () => fail(`no matching line within ${timeoutMs} ms`),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        exited.then((code) => {
          clearTimeout(timer);
          fail(`child exited (${code}) before the line appeared`);
        });
      });
    },
  };
}

/** A loopback port that was bound, then closed: nothing listens there. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/** Reports whether a TCP port accepts connections, within `timeoutMs`. */
export function tcpReachable(
  host: string,
  port: number,
  timeoutMs = 1000,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("timeout", () => done(false));
    socket.once("error", () => done(false));
  });
}

/**
 * Guards a test that needs a real backend. Returns true when `probe` resolves
 * true. Otherwise: under `CI=true` throws (a missing backend fails CI);
 * locally skips the test, saying why.
 */
export async function requireBackend(
  t: { skip(message?: string): void },
  name: string,
  probe: () => Promise<boolean>,
): Promise<boolean> {
  if (await probe()) return true;
  const reason = `${name} is not reachable`;
  if (process.env.CI === "true") {
    throw new Error(`${reason}, and CI=true requires it`);
  }
  console.warn(`skipped: ${reason}`);
  t.skip(reason);
  return false;
}

/** Rejects after `ms` with `what`; the timer is cleared once `p` settles. */
export async function within<T>(
  p: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `condition` every `everyMs` until it holds; rejects naming `what`
 * after `timeoutMs`. (Polling a bounded condition, never a bare sleep.)
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  everyMs = 25,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
