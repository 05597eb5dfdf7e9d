// Cost of the canonical gRPC interceptor stack of @cqi/grpc over a bare
// Connect handler, in process: each call builds a fetch Request and awaits
// the fetch handler (`connectHandler`, Connect protocol, JSON) until its
// body is read; no socket, so the numbers are the per-call CPU cost of the
// interceptors. Variants:
//   bare          connectHandler with no interceptors (Connect's router and
//                 its fetch adapter only)
//   grpcStack     grpcStack({ logger }): tracing (no provider: context only),
//                 access log to /dev/null, recovery
//   + metrics     grpcStack({ logger, registry })
//   + metrics + auth  grpcStack({ logger, registry, auth: apiKey(...) })
// Two kinds of call: unary Echo, and server-streaming Count of 3 messages.
//
//   deno run -A bench/grpc.ts [--rounds=9] [--ops=5000]
//   bun run bench/grpc.ts [...]
//
// Variants alternate within each round (order rotating); round 0 warms up
// and is dropped. Prints Markdown: per variant the median time per call over
// rounds (and its range), and the median (and range) over rounds of its time
// relative to bare in the same round.
import process from "node:process";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { apiKey } from "@cqi/auth";
import type { Handler } from "@cqi/http";
import { createLogger } from "@cqi/logging";
import { createRegistry } from "@cqi/metrics";
import { connectHandler, grpcStack } from "@cqi/grpc";
import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
import { ratio, spread } from "./_stats.ts";

const runtime = "Bun" in globalThis ? "bun" : "deno";
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")),
);
const ROUNDS = Number(args.rounds ?? 9);
const OPS = Number(args.ops ?? 5_000);
const KEY = "bench-key-0123456789";

const routes = (router: ConnectRouter) =>
  router.service(EchoService, {
    echo: (req) => ({ text: req.text }),
    async *count(req) {
      for (let n = 1; n <= req.to; n++) yield { n };
    },
  });

function logger() {
  return createLogger({ service: { name: "bench" }, output: "/dev/null" });
}

const variants: Record<string, () => Interceptor[]> = {
  bare: () => [],
  grpcStack: () => grpcStack({ logger: logger() }),
  "grpcStack + metrics": () =>
    grpcStack({
      logger: logger(),
      registry: createRegistry({ namespace: "bench", defaultMetrics: false }),
    }),
  "grpcStack + metrics + auth": () =>
    grpcStack({
      logger: logger(),
      registry: createRegistry({ namespace: "bench", defaultMetrics: false }),
      auth: apiKey({ keys: [{ id: "bench", key: KEY }] }),
    }),
};

const unaryBody = JSON.stringify({ text: "hello" });
const streamBody = (() => {
  const json = new TextEncoder().encode(JSON.stringify({ to: 3 }));
  const frame = new Uint8Array(5 + json.length);
  new DataView(frame.buffer).setUint32(1, json.length);
  frame.set(json, 5);
  return frame;
})();

const kinds: Record<string, (handler: Handler) => Promise<unknown>> = {
  unary: async (handler) => {
    const res = await handler(
      new Request("http://bench/cqc.test.v1.EchoService/Echo", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${KEY}`,
        },
        body: unaryBody,
      }),
    );
    if (res.status !== 200) throw new Error(`unary: ${res.status}`);
    return await res.text();
  },
  "stream of 3": async (handler) => {
    const res = await handler(
      new Request("http://bench/cqc.test.v1.EchoService/Count", {
        method: "POST",
        headers: {
          "content-type": "application/connect+json",
          authorization: `Bearer ${KEY}`,
        },
        body: streamBody,
      }),
    );
    const body = new Uint8Array(await res.arrayBuffer());
    if (body.length < 20) throw new Error("stream: short body");
    return body;
  },
};

const handlers = Object.fromEntries(
  Object.entries(variants).map((
    [name, make],
  ) => [name, connectHandler(routes, { interceptors: make() })]),
);

/** ns per call over `OPS` sequential calls. */
async function measure(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < OPS; i++) await call();
  return (performance.now() - started) * 1e6 / OPS;
}

const names = Object.keys(variants);
const results: Record<string, Record<string, number[]>> = {};
for (const name of names) {
  results[name] = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
}
for (let round = 0; round <= ROUNDS; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]);
  for (const [kind, call] of Object.entries(kinds)) {
    for (const name of order) {
      const ns = await measure(() => call(handlers[name]));
      if (round > 0) results[name][kind].push(ns);
    }
  }
}

for (const kind of Object.keys(kinds)) {
  console.log(
    `\n### gRPC interceptor stack, ${kind} Connect call over the fetch handler (${runtime}, in process)\n`,
  );
  console.log("| runtime | variant | µs/call | time vs bare |");
  console.log("| --- | --- | ---: | ---: |");
  for (const name of names) {
    const values = results[name][kind];
    console.log(
      `| ${runtime} | ${name} | ${spread(values, 1000, 1)} | ${
        name === "bare" ? "1.00×" : ratio(values, results.bare[kind], true)
      } |`,
    );
  }
}
console.log(
  `\n${ROUNDS} rounds of ${OPS} calls per variant and kind; round 0 dropped.`,
);
