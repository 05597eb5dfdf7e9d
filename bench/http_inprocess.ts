// Per-request cost of each variant without the network: call the handler in
// a loop and read the body. Prints one JSON line per variant.
import { variants } from "./http_variants.ts";

const runtime = "Bun" in globalThis ? "bun" : "deno";
const request = new Request("http://127.0.0.1/");
const ITERATIONS = 200_000;

async function measure(
  handler: (req: Request) => Response | Promise<Response>,
) {
  const start = performance.now();
  for (let i = 0; i < ITERATIONS; i++) {
    const res = await handler(request);
    await res.arrayBuffer();
  }
  return ((performance.now() - start) * 1e6) / ITERATIONS; // ns per request
}

const handlers = Object.fromEntries(
  Object.entries(variants).map(([name, make]) => [name, make()]),
);
const samples: Record<string, number[]> = {};
for (let round = 0; round < 7; round++) {
  for (const [name, handler] of Object.entries(handlers)) {
    const ns = await measure(handler);
    if (round > 0) (samples[name] ??= []).push(ns); // round 0 warms up
  }
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
for (const [name, xs] of Object.entries(samples)) {
  console.log(
    JSON.stringify({
      runtime,
      variant: name,
      ns_per_request: Math.round(median(xs)),
    }),
  );
}
