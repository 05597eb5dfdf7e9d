import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { processEnv, ReadError, readText, recordEnv } from "./runtime.ts";
import { tempDir } from "./testdata/temp.ts";

describe("runtime access", () => {
  it("reads a record as an environment", () => {
    const env = recordEnv({ A: "1", B: undefined });
    assert.equal(env.get("A"), "1");
    assert.equal(env.get("B"), undefined);
    assert.equal(env.get("toString"), undefined);
    assert.deepEqual(env.keys(), ["A"]);
  });

  it("reads the process environment", () => {
    const env = processEnv();
    assert.equal(typeof env.get("PATH"), "string");
    assert.ok(env.keys()?.includes("PATH"));
  });

  it("reads text files and tells why one cannot be read", async () => {
    await using dir = await tempDir();
    const file = await dir.write("a.txt", "héllo\n");
    assert.equal(await readText(file), "héllo\n");
    const missing = await readText(`${dir.path}/nope`).catch((e) => e);
    assert.ok(missing instanceof ReadError);
    assert.equal(missing.reason, "not_found");
    assert.equal(missing.message, "file not found");
    const directory = await readText(dir.path).catch((e) => e);
    assert.ok(directory instanceof ReadError);
    assert.notEqual(directory.reason, "permission");
  });
});
