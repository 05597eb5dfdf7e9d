// Per-request cost of @cqi/auth's apiKey and jwt (ES256, key cached) against
// the bare handler and against Hono's bearerAuth and jwt middleware. Calls
// each handler in-process in a loop (no network), variants alternating in
// rounds; prints Markdown table rows for the runtime it runs on.
//
//   deno run -A bench/auth.ts --header ; bun run bench/auth.ts
//   (bench/auth.sh runs both.) Env: BENCH_MS per variant per round (default
//   500), ROUNDS (default 7, after one warm-up round).
import process from "node:process";
import { Hono, type MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { jwt as honoJwt } from "hono/jwt";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { applyMiddleware } from "@cqi/http";
import { apiKey, jwt } from "@cqi/auth";

type Handler = (req: Request) => Response | Promise<Response>;

const runtime = "Bun" in globalThis ? "bun" : "deno";
const BUDGET_MS = Number(process.env.BENCH_MS ?? 500);
const ROUNDS = Number(process.env.ROUNDS ?? 7);

const body = JSON.stringify({ ok: true });
const headers = { "content-type": "application/json" };
const answer = () => new Response(body, { headers });

const KEY = "bench-key-0123456789abcdefghijklmnopqrstu";
const { publicKey, privateKey } = await generateKeyPair("ES256");
const token = await new SignJWT({ scope: "orders:read" })
  .setProtectedHeader({ alg: "ES256" })
  .setSubject("u-1")
  .setIssuedAt()
  .setExpirationTime("1h")
  .sign(privateKey);

function honoApp(use?: MiddlewareHandler): Handler {
  const app = new Hono();
  if (use) app.use(use);
  app.get("/", () => answer());
  return app.fetch;
}

const variants: Array<
  { name: string; base: string; handler: Handler; auth: string }
> = [
  {
    name: "cqi bare",
    base: "cqi bare",
    handler: applyMiddleware(answer),
    auth: "",
  },
  {
    name: "cqi apiKey",
    base: "cqi bare",
    handler: applyMiddleware(
      answer,
      apiKey({ keys: [{ id: "bench", key: KEY }] }),
    ),
    auth: KEY,
  },
  {
    name: "cqi jwt ES256",
    base: "cqi bare",
    handler: applyMiddleware(
      answer,
      jwt({ publicKey: await exportSPKI(publicKey) }),
    ),
    auth: token,
  },
  { name: "hono bare", base: "hono bare", handler: honoApp(), auth: "" },
  {
    name: "hono bearerAuth",
    base: "hono bare",
    handler: honoApp(bearerAuth({ token: KEY })),
    auth: KEY,
  },
  {
    name: "hono jwt ES256",
    base: "hono bare",
    // A CryptoKey, so Hono does not re-import the key per request either.
    handler: honoApp(honoJwt({ secret: publicKey, alg: "ES256" })),
    auth: token,
  },
];

const requests = new Map(variants.map((v) => [
  v.name,
  new Request("http://127.0.0.1/", {
    headers: v.auth ? { authorization: `Bearer ${v.auth}` } : {},
  }),
]));

// Every variant must answer 200 before anything is timed.
for (const v of variants) {
  const res = await v.handler(requests.get(v.name)!);
  if (res.status !== 200) throw new Error(`${v.name} answered ${res.status}`);
  await res.arrayBuffer();
}

/** ns per request over about BUDGET_MS of calls. */
async function measure(handler: Handler, req: Request): Promise<number> {
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < 64; i++) {
      const res = await handler(req);
      await res.arrayBuffer();
    }
    n += 64;
    elapsed = performance.now() - start;
  } while (elapsed < BUDGET_MS);
  return (elapsed * 1e6) / n;
}

const samples = new Map<string, number[]>();
for (let round = 0; round <= ROUNDS; round++) {
  for (const v of variants) {
    const ns = await measure(v.handler, requests.get(v.name)!);
    if (round > 0) samples.set(v.name, [...(samples.get(v.name) ?? []), ns]);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
if (process.argv.includes("--header")) {
  console.log(
    "| runtime | variant | ns/request (median) | added vs its bare |",
  );
  console.log(
    "| ------- | ------- | ------------------: | ----------------: |",
  );
}
for (const v of variants) {
  const ns = median(samples.get(v.name)!);
  const added = ns - median(samples.get(v.base)!);
  console.log(
    `| ${runtime} | ${v.name} | ${Math.round(ns)} | ${
      v.base === v.name ? "—" : Math.round(added)
    } |`,
  );
}
