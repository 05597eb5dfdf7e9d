// Importing the umbrella module must not load the heavy clients (database,
// cache and broker drivers) nor Hono: those stay behind their own module
// imports. Checked twice: in the static module graph (`deno info`) and in
// what a real import loads at run time.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { readFileSync } from "node:fs";
import { runtimeBinary, spawnScript } from "./_util.ts";
import * as cqi from "../mod.ts";

const HEAVY =
  /\/node_modules\/(postgres|ioredis|redis|@redis|kafkajs|@platformatic|@confluentinc|@electric-sql\/pglite|@bufbuild|nats|@nats-io|hono)\//;
const root = new URL("../", import.meta.url).pathname;

async function graph(entry: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(
    runtimeBinary("deno"),
    ["info", "--json", entry],
    { cwd: root, maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout).modules.map((m: { specifier: string }) =>
    m.specifier
  );
}

describe("root mod.ts", () => {
  it("has no heavy client in its static module graph", async () => {
    const modules = await graph("mod.ts");
    assert.ok(
      modules.some((m) => m.includes("/node_modules/@opentelemetry/api/")),
    );
    assert.deepEqual(modules.filter((m) => HEAVY.test(m)), []);
    // the check can see such an import: the Hono adapter does import hono
    assert.ok((await graph("http/hono.ts")).some((m) => HEAVY.test(m)));
  });

  it("loads no heavy client at run time", async () => {
    const child = spawnScript(
      new URL("./testdata/loaded_modules.ts", import.meta.url),
    );
    const loaded: string[] = JSON.parse(await child.line(() => true));
    assert.equal(await child.exited, 0);
    assert.ok(
      loaded.some((m) => m.includes("/node_modules/@opentelemetry/api/")),
    );
    assert.deepEqual(loaded.filter((m) => HEAVY.test(m)), []);
  });
});

describe("root mod.ts and the README", () => {
  it("re-exports, as namespaces, exactly the modules the README's table calls ready", async () => {
    const readme = readFileSync(
      new URL("../README.md", import.meta.url),
      "utf8",
    );
    const ready = [
      ...readme.matchAll(
        /^\| \[`@cqi\/(\w+)`\]\((\w+)\/README\.md\)[^\n]*\| ready +\|$/gm,
      ),
    ]
      .map(([, name, folder]) => {
        assert.equal(name, folder, "the row links its own module");
        return name;
      });
    assert.ok(ready.length >= 10, `ready modules in the README: ${ready}`);
    assert.deepEqual(Object.keys(cqi).sort(), ready.sort());
    for (const name of ready) {
      // each namespace is the module itself, not a copy or a subset
      const module = await import(`@cqi/${name}`);
      assert.deepEqual(
        Object.keys(cqi[name as keyof typeof cqi]).sort(),
        Object.keys(module).sort(),
        name,
      );
    }
  });
});
