import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnScript } from "../tests/_util.ts";

const script = new URL("./testdata/print_env.ts", import.meta.url);

async function printed(options: Parameters<typeof spawnScript>[1]) {
  const child = spawnScript(script, options);
  const line = await child.line((l) => l.startsWith("{"));
  assert.equal(await child.exited, 0);
  return JSON.parse(line);
}

describe("readEnv", () => {
  it("reads a variable the process may read", async () => {
    assert.deepEqual(await printed({ env: { PORT: "8123" } }), {
      port: "8123",
    });
  });

  it("reads a variable Deno may not read as unset, without prompting or throwing", async () => {
    for (const flags of [[], ["--allow-env=HOME"]]) {
      assert.deepEqual(
        await printed({
          runtime: "deno",
          env: { PORT: "8123" },
          denoFlags: flags,
        }),
        { port: null },
        flags.join(" "),
      );
    }
    assert.deepEqual(
      await printed({
        runtime: "deno",
        env: { PORT: "8123" },
        denoFlags: ["--allow-env=PORT"],
      }),
      { port: "8123" },
    );
  });
});
