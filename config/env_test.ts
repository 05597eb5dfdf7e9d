import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type EnvLayer, lookup, unknownKeys } from "./env.ts";
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
      value: null,
      problem: "both K and K_FILE are set; set only one",
      source: { kind: "env", env: "K" },
    });
    const missing = await lookup(
      [dotenv({ K_FILE: "/nope" })],
      "K",
      readSecret,
    );
    assert.deepEqual(missing, {
      value: null,
      problem: "cannot read K_FILE: file not found",
      source: { kind: "dotenv", file: "/nope", env: "K_FILE" },
    });
  });
});

describe("unknown environment keys", () => {
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
