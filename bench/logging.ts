// Cost of one log line (the same record: a message and 5 fields) written to
// /dev/null and to a temporary file by @cqi/logging, pino (its fastest JSON
// mode, `pino.destination({ sync: false })`), LogTape (its JSON Lines
// formatter) and the floor (JSON.stringify of the same record); plus the cost
// of a call at a disabled level. LogTape and the floor write through the same
// buffered sink as @cqi/logging, so they differ from it only in formatting.
//
//   deno run -A bench/logging.ts [--lines=100000] [--rounds=7] [--disabled=5000000]
//   bun run bench/logging.ts [...]
//
// Variants alternate within each round (their order rotating); round 0 warms
// up and is dropped. Prints Markdown tables: median ns per line and, within
// each round, the throughput ratio to pino.
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import pino from "pino";
import {
  configureSync,
  getLogger,
  jsonLinesFormatter,
  resetSync,
} from "@logtape/logtape";
import { createLogger } from "@cqi/logging";
// The floor and LogTape write through @cqi/logging's own buffered file sink.
import { fileSink } from "../logging/output.ts";

const runtime = "Bun" in globalThis ? "bun" : "deno";
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")),
);
const LINES = Number(args.lines ?? 100_000);
const ROUNDS = Number(args.rounds ?? 7);
const DISABLED_CALLS = Number(args.disabled ?? 5_000_000);
const BUFFER = {
  bufferSize: 64 * 1024,
  flushInterval: 50,
  maxBuffer: 16 << 20,
};

const MESSAGE = "order placed";
const dir = mkdtempSync(join(tmpdir(), "cqi-bench-logging-"));

/** Writes `n` lines; resolves once every line reached the destination. */
type Variant = (dest: string, n: number) => Promise<void>;

const variants: Record<string, Variant> = {
  async floor(dest, n) {
    const sink = fileSink(dest, BUFFER);
    for (let i = 0; i < n; i++) {
      sink.write(
        JSON.stringify({
          timestamp: new Date().toISOString(),
          level: "info",
          service_name: "bench",
          message: MESSAGE,
          user_id: "u-1234",
          order_id: i,
          amount: 19.99,
          currency: "EUR",
          paid: true,
        }) + "\n",
      );
    }
    await sink.close();
  },
  async cqi(dest, n) {
    const log = createLogger({ service: { name: "bench" }, output: dest });
    for (let i = 0; i < n; i++) {
      log.info(MESSAGE, {
        user_id: "u-1234",
        order_id: i,
        amount: 19.99,
        currency: "EUR",
        paid: true,
      });
    }
    await log.close();
  },
  async pino(dest, n) {
    const stream = pino.destination({ dest, sync: false });
    await once(stream, "ready");
    const log = pino(stream);
    for (let i = 0; i < n; i++) {
      log.info({
        user_id: "u-1234",
        order_id: i,
        amount: 19.99,
        currency: "EUR",
        paid: true,
      }, MESSAGE);
    }
    stream.end();
    await once(stream, "close");
  },
  async logtape(dest, n) {
    const sink = fileSink(dest, BUFFER);
    configureSync({
      reset: true,
      sinks: { out: (record) => sink.write(jsonLinesFormatter(record)) },
      loggers: [
        { category: ["bench"], sinks: ["out"], lowestLevel: "info" },
        { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
      ],
    });
    const log = getLogger(["bench"]);
    for (let i = 0; i < n; i++) {
      log.info(MESSAGE, {
        user_id: "u-1234",
        order_id: i,
        amount: 19.99,
        currency: "EUR",
        paid: true,
      });
    }
    resetSync();
    await sink.close();
  },
};

// A disabled call: `debug` on a logger at `info`. Returns ns per call.
type Disabled = (n: number) => Promise<number>;

const disabledVariants: Record<string, Disabled> = {
  async cqi(n) {
    const log = createLogger({
      service: { name: "bench" },
      output: "/dev/null",
    });
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      log.debug(MESSAGE, { user_id: "u-1234", order_id: i });
    }
    const ns = ((performance.now() - start) * 1e6) / n;
    await log.close();
    return ns;
  },
  async pino(n) {
    const stream = pino.destination({ dest: "/dev/null", sync: false });
    await once(stream, "ready");
    const log = pino(stream);
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      log.debug({ user_id: "u-1234", order_id: i }, MESSAGE);
    }
    const ns = ((performance.now() - start) * 1e6) / n;
    stream.end();
    await once(stream, "close");
    return ns;
  },
};

async function timeLines(variant: Variant, dest: string): Promise<number> {
  const start = performance.now();
  await variant(dest, LINES);
  return ((performance.now() - start) * 1e6) / LINES;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const targets = {
  "/dev/null": () => "/dev/null",
  file: () => join(dir, "out.log"),
};

const lineRows: string[] = [];
for (const [target, path] of Object.entries(targets)) {
  const names = Object.keys(variants);
  const samples: Record<string, number[]> = {};
  const ratios: Record<string, number[]> = {};
  for (let round = 0; round <= ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    const ns: Record<string, number> = {};
    for (const name of order) {
      const dest = path();
      ns[name] = await timeLines(variants[name], dest);
      if (dest !== "/dev/null") rmSync(dest, { force: true });
    }
    if (round === 0) continue; // warm-up
    for (const name of names) {
      (samples[name] ??= []).push(ns[name]);
      (ratios[name] ??= []).push(ns.pino / ns[name]);
    }
  }
  for (const name of names) {
    const ns = median(samples[name]);
    const r = ratios[name];
    lineRows.push(
      `| ${runtime} | ${target} | ${name} | ${ns.toFixed(0)} | ${
        Math.round(1e9 / ns).toLocaleString("en-US")
      } | ${median(r).toFixed(2)}× (${Math.min(...r).toFixed(2)}–${
        Math.max(...r).toFixed(2)
      }) |`,
    );
  }
}

const disabledSamples: Record<string, number[]> = {};
for (let round = 0; round <= ROUNDS; round++) {
  for (const [name, run] of Object.entries(disabledVariants)) {
    const ns = await run(DISABLED_CALLS);
    if (round > 0) (disabledSamples[name] ??= []).push(ns);
  }
}
rmSync(dir, { recursive: true, force: true });

console.log(
  `\n${runtime}: ${LINES} lines per variant and round, ${ROUNDS} rounds\n`,
);
console.log(
  "| runtime | output | variant | ns/line (median) | lines/s | throughput vs pino, same round: median (min–max) |",
);
console.log("| --- | --- | --- | ---: | ---: | ---: |");
for (const row of lineRows) console.log(row);
console.log(`\nDisabled \`debug\` call (${DISABLED_CALLS} calls a round):\n`);
console.log("| runtime | variant | ns/call (median) |");
console.log("| --- | --- | ---: |");
for (const [name, xs] of Object.entries(disabledSamples)) {
  console.log(`| ${runtime} | ${name} | ${median(xs).toFixed(2)} |`);
}
