// The quickstart against hostile clients (issue 13), on Deno and on Bun:
// Host-header tricks, a client that hangs up mid-body, an oversized body, and
// an upload still arriving when SIGTERM comes. Driven over raw sockets and
// HTTP only.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { type Child, spawnScript } from "../_util.ts";
import { rawClient } from "../_raw_client.ts";

const MAIN = new URL("../../examples/quickstart/main.ts", import.meta.url);
const KEY = "e2e-hostile-key-0123456789abcdef0123456789abcd";

async function start(
  rt: "deno" | "bun",
): Promise<{ child: Child; port: number }> {
  const child = spawnScript(MAIN, {
    runtime: rt,
    env: {
      PORT: "0",
      CQI_AUTH_API_KEYS: `e2e:${KEY}`,
      CQI_TRACING_ENABLED: "false",
      CQI_SERVER_SHUTDOWN_TIMEOUT: "10s",
    },
  });
  try {
    const line = await child.line(
      (l) => parse(l)?.message === "listening",
      30_000,
    );
    return { child, port: Number(new URL(parse(line)!.url as string).port) };
  } catch (error) {
    child.signal("SIGKILL");
    throw error;
  }
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** Sends `request` as written and returns everything the server answered. */
async function exchange(port: number, request: string): Promise<string> {
  const client = await rawClient(port);
  // A server may answer and close before taking the whole request (413).
  await client.write(request).catch(() => {});
  return await client.closed;
}

/** Sends `request` and returns the first whole JSON answer, or what came. */
function firstAnswer(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let answer = "";
    const done = () => {
      socket.destroy();
      resolve(answer);
    };
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      answer += chunk;
      if (/\r\n\r\n\{[^]*\}$/.test(answer)) done();
    });
    socket.on("error", () => {}); // a reset ends it too
    socket.on("close", done);
    socket.write(request);
  });
}

const put = (body: string, head = "") =>
  `PUT /api/positions/h1 HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${KEY}\r\n` +
  `content-type: application/json\r\ncontent-length: ${body.length}\r\n${head}` +
  `connection: close\r\n\r\n`;

async function attack(child: Child, port: number): Promise<void> {
  // 1. The Host-header bypass of issue 13 and its relatives: 400 JSON.
  const value = '{"assetId":"PWNED","quantity":1}';
  for (
    const [host, request] of [
      [
        "x/health/.\t./api/positions/pwn?",
        `PUT / HTTP/1.1\r\nhost: x/health/.\t./api/positions/pwn?\r\ncontent-type: application/json\r\ncontent-length: ${value.length}\r\nconnection: close\r\n\r\n${value}`,
      ],
      [
        "x/health/.\t./api/positions/pwn?",
        "GET / HTTP/1.1\r\nhost: x/health/.\t./api/positions/pwn?\r\nconnection: close\r\n\r\n",
      ],
      [
        "x/metrics?",
        "GET /api/positions/x HTTP/1.1\r\nhost: x/metrics?\r\nconnection: close\r\n\r\n",
      ],
    ]
  ) {
    const answer = await exchange(port, request);
    assert.match(
      answer,
      /^HTTP\/1\.1 400/,
      `Host: ${JSON.stringify(host)}: ${answer}`,
    );
    assert.ok(
      answer.endsWith('{"error":"invalid Host header","code":"INVALID_INPUT"}'),
      answer,
    );
  }
  const pwned = await exchange(
    port,
    `GET /api/positions/pwn HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${KEY}\r\nconnection: close\r\n\r\n`,
  );
  assert.match(pwned, /^HTTP\/1\.1 404/, "nothing was stored");

  // 2. A client that hangs up mid-body: no 5xx, no error line.
  const client = await rawClient(port);
  await client.write(put(value) + value.slice(0, 10));
  client.destroy();
  // 3. A body over the limit: 413.
  // It declares 2 MiB and sends 64 KiB: the answer comes on the declared
  // length. (A client that writes all 2 MiB into a server that answered and
  // closed may see a reset instead of the answer, whatever the server does.)
  const big = "x".repeat(2 * 1024 * 1024);
  const tooLarge = await firstAnswer(port, put(big) + big.slice(0, 65536));
  assert.match(tooLarge, /^HTTP\/1\.1 413/, tooLarge.slice(0, 200));
  // The hang-up is logged (at info, as canceled) before the metrics are read.
  await child.line((l) => parse(l)?.status === 499);
  const metrics = await exchange(
    port,
    "GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
  );
  assert.doesNotMatch(metrics, /status_code="5\d\d"/, "no 5xx recorded");
  const errors = child.lines.map(parse).filter((r) => r?.level === "error");
  assert.deepEqual(errors, [], "no error line");
}

async function uploadAtShutdown(child: Child, port: number): Promise<void> {
  const value = '{"assetId":"LATE","quantity":7}';
  const upload = await rawClient(port);
  await upload.write(put(value) + value.slice(0, 12));
  child.signal("SIGTERM");
  await child.line((l) => String(parse(l)?.message).endsWith("shutting down"));
  await upload.write(value.slice(12)); // the rest arrives after SIGTERM
  const answer = await upload.closed;
  assert.match(answer, /^HTTP\/1\.1 200/, answer);
  assert.ok(answer.endsWith(value), answer);
  assert.equal(await child.exited, 0);
  const stopped = child.lines.map(parse).find((r) => r?.message === "stopped");
  assert.equal(stopped?.clean, true);
}

describe("quickstart against hostile clients (issue 13)", () => {
  for (const rt of ["deno", "bun"] as const) {
    it(
      `on ${rt}: Host tricks 400, hang-ups and big bodies stay out of 5xx, an upload at SIGTERM completes`,
      {
        timeout: 60_000,
      },
      async () => {
        const { child, port } = await start(rt);
        try {
          await attack(child, port);
          await uploadAtShutdown(child, port);
        } finally {
          child.signal("SIGKILL");
        }
      },
    );
  }
});
