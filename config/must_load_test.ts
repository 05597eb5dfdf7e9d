import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import process from "node:process";
import { tempDir } from "./testdata/temp.ts";

const runtime: "deno" | "bun" = "Bun" in globalThis ? "bun" : "deno";
const binary = (name: string) =>
  new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
const script = (name: string) =>
  new URL(`./testdata/${name}`, import.meta.url).pathname;

/** Runs a command with a clean CQI environment; resolves with its output. */
async function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("CQI_")),
  );
  const child = spawn(command, args, {
    env: { ...base, NO_COLOR: "1", ...env },
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => stdout += chunk);
  child.stderr!.on("data", (chunk) => stderr += chunk);
  const [code] = await once(child, "close");
  return { code, stdout, stderr };
}

const mustLoad = (env: Record<string, string>) =>
  run(
    binary(runtime),
    runtime === "deno"
      ? ["run", "-A", script("must_load.ts")]
      : ["run", script("must_load.ts")],
    env,
  );

describe(`mustLoad (${runtime})`, () => {
  it("returns the configuration when it is valid; console.log redacts secrets", async () => {
    const { code, stdout, stderr } = await mustLoad({
      CQI_SERVICE_NAME: "cqpm",
      CQI_SERVER_PORT: "9000",
      CQI_DATABASE_HOST: "db",
      CQI_DATABASE_DATABASE: "app",
      CQI_DATABASE_PASSWORD: "hunter2",
    });
    assert.equal(stderr, "");
    assert.equal(code, 0);
    const [first, ...rest] = stdout.trim().split("\n");
    assert.equal(first, "loaded cqpm on port 9000");
    const printed = rest.join("\n");
    assert.match(printed, /password: \[REDACTED\]/);
    assert.match(printed, /host: "db"|host: 'db'/);
    assert.ok(!printed.includes("hunter2"), printed);
  });

  it("prints the whole report to stderr and exits 1, secrets redacted", async () => {
    const { code, stdout, stderr } = await mustLoad({
      CQI_SERVER_PORT: "99999",
      CQI_CACHE_PASSWORD: "hunter2",
      CQI_DATABASE_HOST: "db",
      CQI_DATABSE_PORT: "5432",
    });
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.equal(
      stderr.trim(),
      [
        "invalid configuration (4 problems):",
        "  - service: required; set CQI_SERVICE_NAME or service.name in the config file",
        "  - server.port: expected a port number 0-65535 (0: any free port), got 99999 [env CQI_SERVER_PORT]",
        "  - database.database: required; set CQI_DATABASE_DATABASE or database.database in the config file [env CQI_DATABASE_HOST]",
        "  - cache.host: required; set CQI_CACHE_HOST or cache.host in the config file [env CQI_CACHE_PASSWORD]",
        "warnings:",
        "  - unknown environment key (ignored); did you mean CQI_DATABASE_PORT? [env CQI_DATABSE_PORT]",
      ].join("\n"),
    );
    assert.ok(!stderr.includes("hunter2"));
  });
});

describe("Deno permissions", () => {
  const deno = (flags: string[], env: Record<string, string>, cwd?: string) =>
    run(binary("deno"), ["run", ...flags, script("permissions.ts")], env, cwd);

  it("works with only the environment keys it needs, without prompting", async () => {
    await using dir = await tempDir();
    const { code, stdout } = await deno(
      ["--allow-env=CQI_*", "--allow-read=.env"],
      { CQI_SERVICE_NAME: "svc" },
      dir.path,
    );
    assert.equal(code, 0);
    assert.equal(stdout.trim(), "loaded svc");
  });

  it("names the flag to add for a file it may not read", async () => {
    await using dir = await tempDir();
    const file = await dir.write("c.yaml", "service_name: svc\n");
    const { code, stdout } = await deno(
      ["--allow-env"],
      { CQI_CONFIG_FILE: file },
      dir.path,
    );
    assert.equal(code, 0);
    assert.match(
      stdout,
      new RegExp(
        `config file not read: no read permission \\(run Deno with --allow-read=${file}\\)`,
      ),
    );
    assert.match(stdout, /\.env file not read: no read permission/);
  });
});
