import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import process from "node:process";
import fc from "fast-check";
import { applyMiddleware, router } from "@cqi/http";
import { apiKey } from "./mod.ts";

// Under CI, at least 10^5 generated requests on each runtime.
const REQUESTS = process.env.CI === "true" ? 100_000 : 4_000;
const BATCH = 40;
const KEY = "k-1234567890";

// Paths as an attacker builds them: an excluded prefix, then dot segments
// disguised with escapes and characters a parser drops (TAB, VT, NUL), then
// a guarded route, joined by separators a parser may rewrite; or any mix of
// those pieces.
const separator = fc.constantFrom(
  "/",
  "/",
  "/",
  "\\",
  "//",
  "%2f",
  "%5c",
  "/;",
);
const dot = fc.constantFrom(".", ".", "%2e", "%2E");
const dropped = fc.constantFrom("", "\t", "\n", "\v", "\0", "%00", " ");
const dotty = fc.oneof(
  fc.tuple(dot, dropped, dot).map((parts) => parts.join("")),
  fc.tuple(dropped, dot, dropped).map((parts) => parts.join("")),
  fc.array(fc.constantFrom(".", "%2e", "\t", "\v", "\0", "é", "%"), {
    minLength: 1,
    maxLength: 4,
  }).map((parts) => parts.join("")),
);
const word = fc.constantFrom(
  "health",
  "live",
  "metrics",
  "api",
  "positions",
  "pwn",
  "admin",
  "x",
  "",
);
const segments = (
  piece: fc.Arbitrary<string>,
  minLength: number,
  maxLength: number,
) =>
  fc.array(fc.tuple(separator, piece), { minLength, maxLength }).map((parts) =>
    parts.map(([sep, segment]) => sep + segment).join("")
  );
const path = fc.oneof(
  fc.tuple(
    fc.constantFrom("/health", "/health/live", "/metrics", "/metrics/", ""),
    segments(dotty, 1, 2),
    fc.constantFrom("/api/positions/pwn", "/admin/x", "/", ""),
  ).map((parts) => parts.join("")),
  segments(fc.oneof(word, word, dotty), 0, 7),
);
const tail = fc.constantFrom("", "?", "#", "?x=1", "@", ":", ";", " ");
const request = fc.record({
  method: fc.constantFrom("GET", "PUT"),
  host: fc.option(
    fc.tuple(
      fc.constantFrom("x", "x:80", "127.0.0.1", "[::1]", "é", ""),
      fc.oneof(fc.constant(""), path),
      tail,
    ).map((parts) => parts.join("")),
    { nil: undefined, freq: 10 },
  ),
  target: fc.oneof(
    fc.constant("/"),
    fc.tuple(fc.constantFrom("/health/live", "/metrics"), tail).map(
      ([p, t]) => p + t,
    ),
    tail.map((t) => "/" + t),
    fc.tuple(path, tail).map(([p, t]) => "/" + p.replace(/^\//, "") + t),
    fc.tuple(path, path).map(([a, b]) => `http://x${a}/${b}`),
  ),
});

function rawRequest(
  { method, host, target }: { method: string; host?: string; target: string },
): string {
  return `${method} ${target} HTTP/1.1\r\n` +
    (host === undefined ? "" : `host: ${host}\r\n`) +
    "content-length: 0\r\nconnection: close\r\n\r\n";
}

/** Sends `raw` as written; resolves with whatever came back. */
function send(port: number, raw: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let answer = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => answer += chunk);
    socket.on("error", () => {}); // a reset ends the exchange too
    socket.on("close", () => resolve(answer));
    socket.end(Buffer.from(raw, "utf8"));
  });
}

/** The runtime's own server, without serve()'s Host check. */
function plainServer(handler: (req: Request) => Promise<Response>) {
  const bun = (globalThis as {
    Bun?: { serve(o: unknown): { port: number; stop(): Promise<void> } };
  }).Bun;
  if (bun !== undefined) {
    const server = bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: handler,
    });
    return { port: server.port, stop: () => server.stop() };
  }
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    handler,
  );
  return { port: server.addr.port, stop: () => server.shutdown() };
}

describe("auth exclusions and the router read one path", () => {
  it(
    `no generated Host header or request target reaches a guarded route without credentials (${REQUESTS} requests)`,
    {
      timeout: 120_000,
    },
    async () => {
      const guarded = () => new Response("SECRET");
      const app = router({
        "GET /": guarded,
        "GET /api/positions/:id": guarded,
        "PUT /api/positions/:id": guarded,
        "GET /admin/*": guarded,
        "GET /health/live": () => new Response("open"),
        "GET /metrics": () => new Response("open"),
      });
      const handler = applyMiddleware(
        app,
        apiKey({
          keys: [{ id: "k1", key: KEY }],
          exclude: ["/health/*", "/metrics"],
        }),
      );
      const server = plainServer(async (req) => await handler(req));
      let open = 0;
      try {
        // The guard is real: with the key, a guarded route answers.
        const withKey = await send(
          server.port,
          `GET /api/positions/1 HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${KEY}\r\nconnection: close\r\n\r\n`,
        );
        assert.ok(withKey.endsWith("SECRET"), withKey);
        await fc.assert(
          fc.asyncProperty(
            fc.array(request, { minLength: BATCH, maxLength: BATCH }),
            async (batch) => {
              const answers = await Promise.all(
                batch.map((r) => send(server.port, rawRequest(r))),
              );
              answers.forEach((answer, i) => {
                if (answer.endsWith("\r\n\r\nopen")) open++;
                assert.ok(
                  !answer.includes("SECRET"),
                  `reached a guarded route:\n${
                    JSON.stringify(rawRequest(batch[i]))
                  }`,
                );
              });
            },
          ),
          { numRuns: REQUESTS / BATCH },
        );
      } finally {
        await server.stop();
      }
      // Not vacuous: some generated requests reached the open routes.
      assert.ok(open > 0, "no generated request reached an open route");
    },
  );
});
