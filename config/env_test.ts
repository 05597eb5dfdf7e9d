import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type EnvLayer, lookup, overlay, unknownKeys } from "./env.ts";
import type { ConfigProblem } from "./error.ts";
import { leavesOf, type SchemaNode } from "./introspect.ts";
import { cqiSchema } from "./mod.ts";
import { RawMap, type RawScalar } from "./raw.ts";
import { recordEnv } from "./runtime.ts";

const process = (vars: Record<string, string>): EnvLayer => ({
  kind: "env",
  reader: recordEnv(vars),
});
const dotenv = (vars: Record<string, string>): EnvLayer => ({
  kind: "dotenv",
  reader: recordEnv(vars),
  file: ".env",
  lines: new Map(Object.keys(vars).map((k, i) => [k, i + 1])),
});
const files: Record<string, string> = { "/s/pw": "from-file\r\n\n" };
const readSecret = (path: string) =>
  path in files
    ? Promise.resolve(files[path])
    : Promise.reject(new Error("file not found"));

describe("environment lookup", () => {
  it("prefers the process environment over .env", async () => {
    const found = await lookup(
      [process({ K: "env" }), dotenv({ K: "dotenv" })],
      "K",
      readSecret,
    );
    assert.deepEqual(found, {
      value: "env",
      source: { kind: "env", env: "K" },
    });
    const below = await lookup(
      [process({}), dotenv({ K: "dotenv" })],
      "K",
      readSecret,
    );
    assert.deepEqual(below, {
      value: "dotenv",
      source: { kind: "dotenv", file: ".env", line: 1, env: "K" },
    });
  });

  it("reads K_FILE, a layer's K_FILE beating a lower layer's K", async () => {
    const found = await lookup(
      [process({ K_FILE: "/s/pw" }), dotenv({ K: "dotenv" })],
      "K",
      readSecret,
    );
    assert.deepEqual(found, {
      value: "from-file",
      source: { kind: "env", env: "K_FILE", file: "/s/pw" },
    });
  });

  it("treats empty values as unset", async () => {
    assert.equal(
      await lookup([process({ K: "" })], "K", readSecret),
      undefined,
    );
  });

  it("reports K with K_FILE, and unreadable files", async () => {
    const both = await lookup(
      [process({ K: "a", K_FILE: "/s/pw" })],
      "K",
      readSecret,
    );
    assert.deepEqual(both, {
      problem: "both K and K_FILE are set; set only one",
      source: { kind: "env", env: "K" },
    });
    const missing = await lookup(
      [dotenv({ K_FILE: "/nope" })],
      "K",
      readSecret,
    );
    assert.deepEqual(missing, {
      problem: "cannot read K_FILE: file not found",
      source: { kind: "dotenv", file: "/nope", env: "K_FILE" },
    });
  });
});

describe("environment overlay", () => {
  it("sets each field from its key, creating sections", async () => {
    const root = new RawMap(new Map(), { kind: "default" });
    const problems: ConfigProblem[] = [];
    const keys = await overlay(
      root,
      leavesOf(cqiSchema as unknown as SchemaNode),
      [process({
        CQI_DATABASE_MAX_CONNECTIONS: "7",
        CQI_EVENT_BUS_BROKERS: "a,b",
      })],
      "CQI",
      readSecret,
      problems,
    );
    assert.deepEqual(problems, []);
    assert.ok(keys.includes("CQI_AUTH_JWT_JWKS_URL"));
    const database = root.entries.get("database") as RawMap;
    assert.equal(
      (database.entries.get("maxConnections") as RawScalar).value,
      "7",
    );
    const bus = root.entries.get("eventBus") as RawMap;
    assert.equal((bus.entries.get("brokers") as RawScalar).value, "a,b");
  });

  it("warns about unknown keys under the prefix only", () => {
    const warnings = unknownKeys(
      [process({
        CQI_KNOWN: "1",
        CQI_KNOWN_FILE: "x",
        CQI_KNWON: "1",
        HOME: "/",
      })],
      "CQI",
      ["CQI_KNOWN"],
    );
    assert.deepEqual(warnings.map((w) => [w.source?.env, w.message]), [[
      "CQI_KNWON",
      "unknown environment key (ignored); did you mean CQI_KNOWN?",
    ]]);
    assert.deepEqual(unknownKeys([process({ X: "1" })], "", []), []);
  });
});
