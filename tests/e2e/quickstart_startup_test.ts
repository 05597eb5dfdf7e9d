// The quickstart's start-up failures (issue 14 §6): one clear line on
// stderr naming what was wrong, exit code 1, no stack trace.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { runtimeBinary } from "../_util.ts";

const MAIN = new URL("../../examples/quickstart/main.ts", import.meta.url)
  .pathname;

function start(rt: "deno" | "bun", env: Record<string, string>) {
  const args = rt === "deno" ? ["run", "-A", MAIN] : ["run", MAIN];
  return spawnSync(runtimeBinary(rt), args, {
    env: { ...process.env, CQI_TRACING_ENABLED: "false", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
}

describe("quickstart start-up failures", () => {
  for (const rt of ["deno", "bun"] as const) {
    it(`on ${rt}: a bad PORT or config value is one line and exit 1`, () => {
      const port = start(rt, { PORT: "abc" });
      assert.equal(port.status, 1);
      assert.equal(
        port.stderr.trim(),
        'quickstart: PORT must be a port from 0 to 65535, got "abc"',
      );
      const level = start(rt, { CQI_LOG_LEVEL: "loud" });
      assert.equal(level.status, 1);
      assert.match(level.stderr, /^invalid configuration/);
      assert.match(level.stderr, /CQI_LOG_LEVEL/);
      assert.doesNotMatch(level.stderr, /\n\s+at /, "no stack trace");
      // a production service with no keys refuses to start open
      const open = start(rt, {
        CQI_SERVICE_ENVIRONMENT: "production",
        CQI_AUTH_API_KEYS: "",
      });
      assert.equal(open.status, 1);
      assert.match(open.stderr.trim(), /^quickstart: auth: no API keys or JWT/);
      assert.doesNotMatch(open.stderr, /\n\s+at /, "no stack trace");
    });
  }
});
