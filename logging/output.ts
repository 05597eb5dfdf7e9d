// The buffered sinks behind `output: "stdout" | "stderr" | <path>`, and the
// runtime-specific writes under them (see the README for the measurements
// behind each choice).
//
// On Bun the writes go through `node:fs` (see fdOutput for why).
import { closeSync, openSync, write, writeSync } from "node:fs";
import type { Sink } from "./sink.ts";

/** A destination of text, as each runtime writes it best. */
export interface Output {
  /** Writes a chunk; a promise when it completes later. */
  write(chunk: string | Uint8Array): Promise<void> | void;
  /** Writes a chunk before the process exits, synchronously, best effort. */
  writeSync(chunk: string | Uint8Array): void;
  /** Releases the destination. */
  close(): Promise<void> | void;
}

/** Tuning of a {@linkcode BufferedSink}. */
export interface BufferOptions {
  /** Characters buffered before a write starts. */
  bufferSize: number;
  /** Milliseconds a line may wait in the buffer. */
  flushInterval: number;
  /** Characters held while the destination is slow; beyond, lines drop. */
  maxBuffer: number;
}

const bun = (globalThis as { Bun?: unknown }).Bun;
const encoder = new TextEncoder();

// Open sinks, whose buffered lines are written synchronously if the process
// exits.
const live = new Set<BufferedSink>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const process = (globalThis as {
    process?: { on(event: "exit", fn: () => void): void };
  }).process;
  const flushAll = () => {
    for (const sink of live) sink.flushSync();
  };
  process?.on("exit", flushAll);
  // Deno fires no process "exit" on Deno.exit(), but it does fire "unload".
  if ("Deno" in globalThis) globalThis.addEventListener("unload", flushAll);
}

/**
 * Lines collect in a string; a write starts when it holds `bufferSize`
 * characters, or `flushInterval` ms after the first line, on a timer that
 * does not keep the process alive. One write is in flight at a time; chunks
 * completed meanwhile are encoded and queued (so the many small strings of a
 * burst die young), and a slow destination never blocks the caller. Past
 * `maxBuffer` characters waiting, lines are dropped and counted, and a
 * warning line reports how many once the output catches up.
 */
export class BufferedSink implements Sink {
  readonly #out: Output;
  readonly #options: BufferOptions;
  readonly #closable: boolean;
  #buffer = "";
  // Chunks waiting for the write in flight, and their total size.
  #queue: Uint8Array[] = [];
  #queued = 0;
  #inFlight: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #dropped = 0;
  #closed = false;
  #failed = false;

  constructor(out: Output, options: BufferOptions, closable: boolean) {
    this.#out = out;
    this.#options = options;
    this.#closable = closable;
    installExitHook();
    live.add(this);
  }

  write(line: string): void {
    if (this.#closed) return;
    if (this.#queued + this.#buffer.length >= this.#options.maxBuffer) {
      this.#dropped++;
      return;
    }
    this.#buffer += line;
    if (this.#buffer.length >= this.#options.bufferSize) this.#drain();
    else if (this.#timer === undefined) this.#arm();
  }

  async flush(): Promise<void> {
    while (
      this.#buffer !== "" || this.#queue.length > 0 ||
      this.#inFlight !== undefined
    ) {
      if (this.#inFlight === undefined) this.#next();
      if (this.#inFlight !== undefined) await this.#inFlight;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    if (!this.#closable || this.#closed) return;
    this.#closed = true;
    live.delete(this);
    this.#disarm();
    await this.#out.close();
  }

  /**
   * Writes what is queued and buffered synchronously (the process is
   * exiting). A write already in flight is not repeated.
   */
  flushSync(): void {
    this.#disarm();
    const chunks: Array<string | Uint8Array> = this.#queue;
    chunks.push(this.#take());
    this.#queue = [];
    this.#queued = 0;
    try {
      for (const chunk of chunks) {
        if (chunk.length > 0) this.#out.writeSync(chunk);
      }
    } catch {
      // the process is exiting; nowhere left to report this
    }
  }

  #arm(): void {
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.#drain();
    }, this.#options.flushInterval);
    unrefTimer(timer);
    this.#timer = timer;
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #take(): string {
    let chunk = this.#buffer;
    this.#buffer = "";
    if (this.#dropped > 0) {
      chunk += droppedLine(this.#dropped);
      this.#dropped = 0;
    }
    return chunk;
  }

  // Hands everything buffered on: to a write, or to the queue when a write
  // is in flight.
  #drain(): void {
    this.#disarm();
    const chunk = this.#take();
    if (chunk === "") return;
    if (this.#inFlight === undefined) {
      this.#start(chunk);
      return;
    }
    const bytes = encoder.encode(chunk);
    this.#queue.push(bytes);
    this.#queued += bytes.length;
  }

  // Starts the next write: everything queued and buffered, in one chunk.
  #next(): void {
    if (this.#queue.length === 0) {
      this.#drain();
      return;
    }
    const tail = this.#take();
    if (tail !== "") this.#queue.push(encoder.encode(tail));
    const chunk = concat(this.#queue);
    this.#queue = [];
    this.#queued = 0;
    this.#disarm();
    this.#start(chunk);
  }

  #start(chunk: string | Uint8Array): void {
    let pending: Promise<void> | void;
    try {
      pending = this.#out.write(chunk);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (pending === undefined) return;
    this.#inFlight = pending.then(
      () => this.#settled(),
      (error) => {
        this.#fail(error);
        this.#settled();
      },
    );
  }

  #settled(): void {
    this.#inFlight = undefined;
    if (
      this.#queue.length > 0 || this.#buffer.length >= this.#options.bufferSize
    ) {
      this.#next();
    } else if (this.#buffer !== "" && this.#timer === undefined) this.#arm();
  }

  // A failing destination (a closed pipe, a full disk) must not take the
  // service down with it: the first failure is reported on the console.
  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    console.error("@cqi/logging: writing log lines failed:", error);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let size = 0;
  for (const chunk of chunks) size += chunk.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function droppedLine(count: number): string {
  return JSON.stringify({
    timestamp: new Date().toISOString(),
    level: "warn",
    message: `log output too slow: ${count} lines dropped`,
  }) + "\n";
}

function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  if (typeof timer === "number") {
    (globalThis as { Deno?: typeof Deno }).Deno?.unrefTimer(timer);
  } else {
    (timer as { unref?: () => void }).unref?.();
  }
}

// Deno: encode, then `write`: the syscall runs off the JavaScript thread, so
// a full pipe never stalls it (for a file, measured as fast as `writeSync`).
interface DenoWriter {
  write(p: Uint8Array): Promise<number>;
  writeSync(p: Uint8Array): number;
  close?(): void;
}

function denoOutput(target: DenoWriter): Output {
  const writeSync = (chunk: string | Uint8Array) => {
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    for (let at = 0; at < bytes.length;) {
      at += target.writeSync(bytes.subarray(at));
    }
  };
  return {
    async write(chunk) {
      const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
      for (let at = 0; at < bytes.length;) {
        at += await target.write(bytes.subarray(at));
      }
    },
    writeSync,
    close: () => target.close?.(),
  };
}

// Bun: node:fs `write` on the descriptor, which runs off the JavaScript
// thread. A Bun FileSink was used first, but what it still held when the
// event loop ran out was dropped (a test lost 49 of 3,000 lines); a
// `write` in flight keeps the loop alive, and `writeSync` (at exit) blocks
// until everything is written.
function fdOutput(fd: number, onClose?: () => void): Output {
  return {
    write(chunk) {
      const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
      return new Promise((resolve, reject) => {
        const from = (at: number) =>
          write(fd, bytes, at, bytes.length - at, null, (error, n) => {
            if (error) reject(error);
            else if (at + n < bytes.length) from(at + n);
            else resolve();
          });
        from(0);
      });
    },
    writeSync(chunk) {
      const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
      for (let at = 0; at < bytes.length;) {
        at += writeSync(fd, bytes, at, bytes.length - at);
      }
    },
    close: () => onClose?.(),
  };
}

const shared = new Map<"stdout" | "stderr", BufferedSink>();

/**
 * The process-wide sink of stdout or stderr: every logger writing there
 * shares one buffer, so their lines never interleave mid-line. Its `close`
 * only flushes.
 */
export function stdSink(
  stream: "stdout" | "stderr",
  options: BufferOptions,
): BufferedSink {
  let sink = shared.get(stream);
  if (sink === undefined) {
    const out = bun !== undefined
      ? fdOutput(stream === "stdout" ? 1 : 2)
      : denoOutput(Deno[stream]);
    sink = new BufferedSink(out, options, false);
    shared.set(stream, sink);
  }
  return sink;
}

/** A sink appending to the file at `path` (created if missing). */
export function fileSink(path: string, options: BufferOptions): BufferedSink {
  let out: Output;
  if (bun !== undefined) {
    const fd = openSync(path, "a");
    out = fdOutput(fd, () => closeSync(fd));
  } else {
    const file = Deno.openSync(path, { append: true, create: true });
    out = denoOutput(file);
  }
  return new BufferedSink(out, options, true);
}
