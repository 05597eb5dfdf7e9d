// A server process of a test's own (a private Kafka broker, a private NATS
// server): spawned with its output kept, killed by a watchdog if the test
// process dies first, and killed or stopped on request. What "ready" means
// stays with each server's module.
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { createInterface } from "node:readline";

/**
 * One server process at a time: {@linkcode ServerProcess.spawn} it, then
 * {@linkcode ServerProcess.kill} or {@linkcode ServerProcess.stop} it before
 * spawning the next.
 */
export class ServerProcess {
  /** The last output lines (at most 500), stdout and stderr as they come. */
  readonly output: string[] = [];
  #child: ChildProcess | undefined;
  #watchdog: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #running = false;

  /**
   * @param name Names the watchdog (`<name>-watchdog`).
   * @param label Begins the errors of {@linkcode ServerProcess.describe}.
   */
  constructor(readonly name: string, readonly label: string) {}

  /** Whether the process is up (spawned, and not exited since). */
  get running(): boolean {
    return this.#running;
  }

  /** Spawned and not yet reaped (by kill, stop or reap), exited or not. */
  get spawned(): boolean {
    return this.#child !== undefined;
  }

  /** Resolves once the process has exited and its output has been read. */
  get exited(): Promise<void> {
    return this.#exited;
  }

  /**
   * Spawns `command` (the output is not cleared) with a watchdog that kills
   * it (SIGKILL) if this process dies first. Each output line is kept, then
   * passed to `onLine`.
   */
  spawn(
    command: string,
    args: string[],
    onLine: (line: string) => void = () => {},
  ): void {
    const remember = (line: string) => {
      this.output.push(line);
      if (this.output.length > 500) this.output.shift();
    };
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    this.#running = true;
    this.#exited = new Promise<void>((resolve) => {
      // "close": after its output is read, which says why it exited
      child.once("close", () => resolve());
      child.once("error", (error) => {
        remember(`spawn ${command}: ${error}`);
        resolve();
      });
    }).then(() => {
      this.#running = false;
    });
    if (child.pid !== undefined) this.#watchdog = guard(child.pid, this.name);
    for (const input of [child.stdout!, child.stderr!]) {
      createInterface({ input }).on("line", (line) => {
        remember(line);
        onLine(line);
      });
    }
  }

  /** Waits for the process to exit, then forgets it and ends its watchdog. */
  async reap(): Promise<void> {
    await this.#exited;
    this.#child = undefined;
    signal(this.#watchdog, "SIGKILL");
    this.#watchdog = undefined;
  }

  /** SIGKILL; resolves once the process has exited. */
  async kill(): Promise<void> {
    if (!this.#child) return;
    signal(this.#child, "SIGKILL");
    await this.reap();
  }

  /** SIGTERM (SIGKILL after `graceMs`); resolves once the process exited. */
  async stop(graceMs: number): Promise<void> {
    if (!this.#child) return;
    signal(this.#child, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    if (await Promise.race([this.#exited.then(() => false), late])) {
      signal(this.#child, "SIGKILL");
    }
    clearTimeout(timer);
    await this.reap();
  }

  /** An error: the label, `why`, and the last 60 output lines. */
  describe(why: string): Error {
    const tail = this.output.slice(-60).join("\n");
    return new Error(`${this.label} ${why}; output:\n${tail}`);
  }
}

// process.kill: Deno's ChildProcess.kill sends one signal only.
function signal(
  child: ChildProcess | undefined,
  name: "SIGTERM" | "SIGKILL",
): void {
  if (child?.pid === undefined) return;
  try {
    process.kill(child.pid, name);
  } catch {
    // exited already
  }
}

// Kills `pid` when this process dies without killing or stopping it: the
// watchdog's stdin closes with us. Killed itself once the server is reaped.
function guard(pid: number, name: string): ChildProcess {
  const watchdog = spawn(
    "sh",
    [
      "-c",
      'read -r _ || kill -KILL "$1" 2>/dev/null',
      `${name}-watchdog`,
      `${pid}`,
    ],
    { stdio: ["pipe", "ignore", "ignore"] },
  );
  watchdog.on("error", () => {}); // no sh: no watchdog
  return watchdog;
}
