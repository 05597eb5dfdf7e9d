import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtime, runtimeBinary, spawnScript } from "../tests/_util.ts";
import { createLogger } from "./mod.ts";
import { BufferedSink, type Output } from "./output.ts";

const EMIT = new URL("./testdata/emit.ts", import.meta.url);

/** An output recording chunks; `hold` makes writes wait for `release`. */
function fakeOutput(hold = false) {
  const decoder = new TextDecoder();
  const text = (chunk: string | Uint8Array) =>
    typeof chunk === "string" ? chunk : decoder.decode(chunk);
  const chunks: string[] = [];
  const releases: Array<() => void> = [];
  let closed = 0;
  let written: () => void = () => {};
  const output: Output = {
    write(chunk) {
      chunks.push(text(chunk));
      written();
      if (hold) return new Promise<void>((r) => releases.push(r));
    },
    writeSync: (chunk) => void chunks.push(text(chunk)),
    close: () => void closed++,
  };
  return {
    output,
    chunks,
    release: () => releases.shift()?.(),
    get closed() {
      return closed;
    },
    /** Resolves at the next write. */
    nextWrite: () => new Promise<void>((r) => (written = r)),
  };
}

const options = (
  over: Partial<ConstructorParameters<typeof BufferedSink>[1]>,
) => ({
  bufferSize: 1000,
  flushInterval: 10_000,
  maxBuffer: 100_000,
  ...over,
});

describe("BufferedSink", () => {
  it("starts a write once bufferSize characters are buffered", async () => {
    const fake = fakeOutput();
    const sink = new BufferedSink(
      fake.output,
      options({ bufferSize: 100 }),
      true,
    );
    const line = "x".repeat(39) + "\n";
    sink.write(line);
    sink.write(line);
    assert.equal(fake.chunks.length, 0);
    sink.write(line);
    assert.deepEqual(fake.chunks, [line + line + line]);
    await sink.close();
  });

  it("writes a lone line within flushInterval, on a timer", async () => {
    const fake = fakeOutput();
    const sink = new BufferedSink(
      fake.output,
      options({ flushInterval: 50 }),
      true,
    );
    const written = fake.nextWrite();
    // The sink's timer does not keep the process alive; this does.
    const alive = setTimeout(() => {}, 5_000);
    const start = performance.now();
    sink.write("one\n");
    await written;
    const elapsed = performance.now() - start;
    clearTimeout(alive);
    assert.deepEqual(fake.chunks, ["one\n"]);
    assert.ok(elapsed >= 40 && elapsed < 100, `took ${elapsed} ms`);
    await sink.close();
  });

  it("keeps taking lines while a slow write is in flight", async () => {
    const fake = fakeOutput(true);
    const sink = new BufferedSink(
      fake.output,
      options({ bufferSize: 1 }),
      true,
    );
    sink.write("a\n");
    sink.write("b\n");
    sink.write("c\n");
    assert.deepEqual(fake.chunks, ["a\n"], "one write in flight at a time");
    const next = fake.nextWrite();
    fake.release();
    await next;
    assert.deepEqual(fake.chunks, ["a\n", "b\nc\n"]);
    const flushed = sink.flush();
    fake.release();
    await flushed;
  });

  it("drops lines past maxBuffer and reports how many", async () => {
    const fake = fakeOutput(true);
    const sink = new BufferedSink(
      fake.output,
      options({ bufferSize: 1, maxBuffer: 10 }),
      true,
    );
    sink.write("first\n");
    for (let i = 0; i < 10; i++) sink.write(`line ${i}\n`);
    const flushed = sink.flush();
    fake.release();
    await fake.nextWrite();
    fake.release();
    await flushed;
    const [, second] = fake.chunks;
    const lines = second.trimEnd().split("\n");
    assert.deepEqual(lines.slice(0, 2), ["line 0", "line 1"]);
    const report = JSON.parse(lines[2]);
    assert.equal(report.level, "warn");
    assert.match(report.message, /8 lines dropped/);
  });

  it("flush waits for the write in flight and what is buffered", async () => {
    const fake = fakeOutput(true);
    const sink = new BufferedSink(
      fake.output,
      options({ bufferSize: 3 }),
      true,
    );
    sink.write("aaa\n");
    sink.write("b\n");
    let done = false;
    const flushed = sink.flush().then(() => (done = true));
    await Promise.resolve();
    assert.equal(done, false);
    const next = fake.nextWrite();
    fake.release();
    await next;
    assert.equal(done, false);
    fake.release();
    await flushed;
    assert.deepEqual(fake.chunks, ["aaa\n", "b\n"]);
  });

  it("closes a closable output once, and then drops lines", async () => {
    const fake = fakeOutput();
    const sink = new BufferedSink(fake.output, options({}), true);
    sink.write("kept\n");
    await sink.close();
    await sink.close();
    sink.write("dropped\n");
    await sink.flush();
    assert.deepEqual(fake.chunks, ["kept\n"]);
    assert.equal(fake.closed, 1);
  });

  it("only flushes on close when the output is shared (stdout)", async () => {
    const fake = fakeOutput();
    const sink = new BufferedSink(fake.output, options({}), false);
    sink.write("a\n");
    await sink.close();
    sink.write("b\n");
    await sink.close();
    assert.deepEqual(fake.chunks, ["a\n", "b\n"]);
    assert.equal(fake.closed, 0);
  });

  it("writes what is buffered synchronously when asked to (process exit)", () => {
    const fake = fakeOutput();
    const sink = new BufferedSink(fake.output, options({}), true);
    sink.write("a\n");
    sink.write("b\n");
    sink.flushSync();
    sink.flushSync();
    assert.deepEqual(fake.chunks, ["a\nb\n"]);
  });

  it("writes queued chunks synchronously too, not the one in flight", () => {
    const fake = fakeOutput(true);
    const sink = new BufferedSink(
      fake.output,
      options({ bufferSize: 2 }),
      true,
    );
    sink.write("a\n");
    sink.write("b\n");
    sink.write("c\n");
    sink.write("d");
    sink.flushSync();
    assert.deepEqual(fake.chunks, ["a\n", "b\n", "c\n", "d"]);
  });

  describe("a failing output", () => {
    const reported: unknown[][] = [];
    const original = console.error;
    beforeEach(() => {
      reported.length = 0;
      console.error = (...args: unknown[]) => void reported.push(args);
    });
    afterEach(() => {
      console.error = original;
    });

    it("is reported once, never thrown to the caller", async () => {
      let calls = 0;
      const failing: Output = {
        write() {
          calls++;
          if (calls === 1) throw new Error("EPIPE");
          return Promise.reject(new Error("ENOSPC"));
        },
        writeSync() {
          throw new Error("EPIPE");
        },
        close() {},
      };
      const sink = new BufferedSink(failing, options({ bufferSize: 1 }), true);
      sink.write("a\n");
      sink.write("b\n");
      await sink.flush();
      sink.write("c\n");
      await sink.flush();
      sink.flushSync();
      await sink.close();
      assert.equal(calls, 3);
      assert.equal(reported.length, 1);
      assert.match(String(reported[0][0]), /@cqi\/logging/);
    });
  });
});

describe("file output", () => {
  let dir = "";
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "cqi-logging-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("loses no line: N lines written, closed, N lines in the file", async () => {
    const path = join(dir, "app.log");
    const log = createLogger({ service: { name: "files" }, output: path });
    const n = 20_000;
    for (let i = 0; i < n; i++) log.info("line", { i, pad: "y".repeat(50) });
    await log.close();
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    assert.equal(lines.length, n);
    lines.forEach((line, i) => assert.equal(JSON.parse(line).i, i));
  });

  it("appends to an existing file", async () => {
    const path = join(dir, "app.log");
    writeFileSync(path, "existing\n");
    const log = createLogger({ output: path });
    log.info("new");
    await log.flush();
    log.info("newer");
    await log.close();
    log.info("after close: dropped");
    await log.flush();
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    assert.equal(lines[0], "existing");
    assert.deepEqual(lines.slice(1).map((l) => JSON.parse(l).message), [
      "new",
      "newer",
    ]);
  });

  it("pretty-prints to a file", async () => {
    const path = join(dir, "dev.log");
    const log = createLogger({ output: path, format: "pretty" });
    log.error("failed", { error: new Error("boom", { cause: "why" }) });
    await log.close();
    const text = readFileSync(path, "utf8");
    assert.match(text, /ERROR failed/);
    assert.match(text, /Error: boom/);
    assert.match(text, /caused by: string: why/);
    assert.ok(!text.includes("\x1b["), "no colours in a file");
  });
});

describe(`stdout output (${runtime}, child processes)`, () => {
  const records = (lines: string[]) =>
    lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it("loses no line on close", async () => {
    const child = spawnScript(EMIT, { args: ["close", "5000"] });
    assert.equal(await child.exited, 0);
    const rs = records(child.lines);
    assert.equal(rs.length, 5000);
    assert.deepEqual(rs.map((r) => r.i), [...Array(5000).keys()]);
  });

  it("writes what is buffered when the process exits without closing", async () => {
    const child = spawnScript(EMIT, { args: ["exit", "20"] });
    assert.equal(await child.exited, 0);
    assert.equal(child.lines.length, 20);
  });

  it("loses no line when the event loop runs out, without closing", async () => {
    const child = spawnScript(EMIT, { args: ["end", "3000"] });
    assert.equal(await child.exited, 0);
    assert.equal(child.lines.length, 3000);
  });

  it("delivers a line soon without a flush, while the process lives", async () => {
    const child = spawnScript(EMIT, { args: ["linger", "1"] });
    try {
      const line = await child.line(() => true);
      const lag = Date.now() - Date.parse(JSON.parse(line).timestamp);
      // The timer (50 ms) is tested exactly above; this allows a busy machine.
      assert.ok(lag < 1000, `arrived ${lag} ms after it was logged`);
    } finally {
      child.signal("SIGKILL");
      await child.exited;
    }
  });

  it("never blocks the caller while nobody reads stdout", async () => {
    const lines = 20_000; // ~3 MB: far more than a pipe holds
    const child = spawn(
      runtimeBinary(runtime),
      runtime === "deno"
        ? ["run", "-A", EMIT.pathname, "slow", String(lines)]
        : ["run", EMIT.pathname, "slow", String(lines)],
      { stdio: ["ignore", "pipe", "pipe"], env: process.env },
    );
    // stdout is not read until the child has reported on stderr: a logger
    // writing synchronously would block on the full pipe and never report.
    const [report] = await once(child.stderr!, "data");
    assert.match(String(report), /calls took [\d.]+ ms/);
    let out = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => (out += chunk));
    const [code] = await once(child, "exit");
    if (!child.stdout!.readableEnded) await once(child.stdout!, "end");
    assert.equal(code, 0);
    assert.equal(out.trimEnd().split("\n").length, lines);
  });
});
