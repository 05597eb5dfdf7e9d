// Cost of @cqi/httpclient over plain `fetch`, against a loopback server in
// another process (the same runtime, started by this script with --serve),
// so that the server's work does not share the client's thread:
// 1. `fetch(url)` + `res.text()` against the client called the same way,
//    with its defaults (retry, a breaker per host, a 30 s deadline) and with
//    retry and breaker off (the deadline, the body watcher and the span
//    check remain);
// 2. `fetch` + `res.json()` against `client.getJson(path, schema)` with a
//    valibot schema of the answer.
// One caller at a time (--ops per round) and 32 concurrent callers (4×
// --ops per round).
//
//   deno run -A bench/httpclient.ts [--rounds=9] [--ops=2000]
//   bun run bench/httpclient.ts [...]
//
// Variants alternate within each round (order rotating); round 0 warms up
// and is dropped. Prints Markdown: per variant the median time per request
// over rounds (and its range), and the median (and range) over rounds of its
// time relative to plain fetch in the same round.
import process from "node:process";
import { spawn } from "node:child_process";
import * as v from "valibot";
import { serve } from "@cqi/http";
import { createHttpClient } from "@cqi/httpclient";
import { ratio, spread } from "./_stats.ts";

const runtime = "Bun" in globalThis ? "bun" : "deno";
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")),
);
const ROUNDS = Number(args.rounds ?? 9);
const OPS = Number(args.ops ?? 2_000);
const QUOTE = { symbol: "BTC", bid: 99.5, ask: 101.25, at: 1_733_300_000 };

if ("serve" in args) {
  const body = JSON.stringify(QUOTE);
  const server = serve(
    () =>
      new Response(body, { headers: { "content-type": "application/json" } }),
    {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
      onListen: () => {},
    },
  );
  console.log(server.addr.port);
  process.stdin.on("data", () => {}).on("end", () => process.exit(0));
} else {
  await main();
}

async function startServer(): Promise<{ url: string; stop: () => void }> {
  const file = new URL(import.meta.url).pathname;
  const argv = runtime === "bun"
    ? ["run", file, "--serve"]
    : ["run", "-A", file, "--serve"];
  const child = spawn(process.execPath, argv, {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await new Promise<string>((resolve) =>
    child.stdout!.once("data", (d: Uint8Array) => resolve(String(d).trim()))
  );
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => child.stdin!.end(),
  };
}

/** One request. */
type Op = () => Promise<unknown>;

/** Runs `ops` requests with `concurrency` callers; returns µs per request. */
async function measure(op: Op, ops: number, concurrency: number) {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < ops) await op();
  }));
  return (performance.now() - started) * 1e3 / ops;
}

async function rounds(
  subjects: Record<string, Op>,
  ops: number,
  concurrency: number,
): Promise<Record<string, number[]>> {
  const names = Object.keys(subjects);
  const results: Record<string, number[]> = {};
  for (const name of names) results[name] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      const us = await measure(subjects[name], ops, concurrency);
      if (round > 0) results[name].push(us);
    }
  }
  return results;
}

async function main() {
  const server = await startServer();
  const url = `${server.url}/quotes/BTC`;
  const client = createHttpClient({ baseUrl: server.url });
  const bare = createHttpClient({
    baseUrl: server.url,
    retry: false,
    breaker: false,
  });
  const Quote = v.object({
    symbol: v.string(),
    bid: v.number(),
    ask: v.number(),
    at: v.number(),
  });
  const sections: [string, Record<string, Op>][] = [
    ["GET, body as text", {
      "fetch": async () => await (await fetch(url)).text(),
      "CQI client, defaults": async () =>
        await (await client("/quotes/BTC")).text(),
      "CQI client, no retry, no breaker": async () =>
        await (await bare("/quotes/BTC")).text(),
    }],
    ["GET JSON, checked", {
      "fetch + res.json()": async () => await (await fetch(url)).json(),
      "CQI getJson + valibot": () => client.getJson("/quotes/BTC", Quote),
    }],
  ];
  console.log(`\n### HTTP client overhead on loopback (${runtime})\n`);
  console.log(
    "| runtime | callers | request | variant | µs/request | time vs fetch |",
  );
  console.log("| --- | ---: | --- | --- | ---: | ---: |");
  for (const concurrency of [1, 32]) {
    for (const [title, subjects] of sections) {
      const results = await rounds(
        subjects,
        concurrency === 1 ? OPS : 4 * OPS,
        concurrency,
      );
      const [base] = Object.keys(subjects);
      for (const name of Object.keys(subjects)) {
        const cqi = name.startsWith("CQI");
        console.log(
          `| ${runtime} | ${concurrency} | ${title} | ${
            cqi ? `**${name}**` : name
          } | ${spread(results[name], 1, 1)} | ${
            name === base ? "1.00×" : ratio(results[name], results[base], cqi)
          } |`,
        );
      }
    }
  }
  await client.close();
  await bare.close();
  server.stop();
}
