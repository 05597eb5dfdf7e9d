import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { createRegistry } from "./mod.ts";
import { maxOpenFiles } from "./default_metrics.ts";
import { parse } from "./testdata/exposition.ts";
import { spawnScript } from "../tests/_util.ts";

const linux = process.platform === "linux";

/** The series read from /proc, as /proc/<pid> reads for that process now. */
function procValues(pid: number | "self"): Record<string, number> {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kB = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)![1]) *
    1024;
  return {
    process_resident_memory_bytes: kB("VmRSS"),
    process_virtual_memory_bytes: kB("VmSize"),
    process_heap_bytes: kB("VmData"),
    process_open_fds: readdirSync(`/proc/${pid}/fd`).length,
    process_max_fds: maxOpenFiles(
      readFileSync(`/proc/${pid}/limits`, "utf8"),
    )!,
  };
}

/** How far a reported value may be from the one read afterwards. */
const TOLERANCE: Record<string, (reported: number, read: number) => boolean> = {
  process_resident_memory_bytes: (a, b) => Math.abs(a - b) <= 0.25 * b,
  process_virtual_memory_bytes: (a, b) => Math.abs(a - b) <= 0.1 * b,
  process_heap_bytes: (a, b) => Math.abs(a - b) <= 0.25 * b,
  process_open_fds: (a, b) => Math.abs(a - b) <= 4,
  process_max_fds: (a, b) => a === b,
};

/**
 * Checks that each /proc series of `text` is right, and that those in
 * `required` are there; the others may be absent, never wrong (or 0).
 */
function assertProcessSeries(
  text: string,
  actual: Record<string, number>,
  required: readonly string[],
): string[] {
  const samples = parse(text);
  const present: string[] = [];
  for (const [name, read] of Object.entries(actual)) {
    const sample = samples.filter((s) => s.name === name);
    assert.ok(sample.length <= 1, `${name}: one sample at most`);
    if (sample.length === 0) {
      assert.ok(!required.includes(name), `${name} is missing`);
      continue;
    }
    present.push(name);
    assert.ok(
      TOLERANCE[name](sample[0].value, read),
      `${name} reported ${sample[0].value}, /proc says ${read}`,
    );
  }
  return present;
}

const ALL = [
  "process_resident_memory_bytes",
  "process_virtual_memory_bytes",
  "process_heap_bytes",
  "process_open_fds",
  "process_max_fds",
];

describe("default process metrics", () => {
  it("never expose NaN or the event-loop monitor's empty-state sentinel", async () => {
    const registry = createRegistry({ namespace: "fresh" });
    const text = await registry.metrics();
    assert.match(text, /process_cpu_user_seconds_total/);
    assert.ok(!/ NaN$/m.test(text), "no NaN sample");
    assert.ok(!text.includes("9223372036"), "no int64-max sentinel");
  });

  it("read the soft limit of Max open files, and nothing when it is unlimited", () => {
    const limits = (soft: string, hard: string) =>
      "Limit                     Soft Limit           Hard Limit           Units     \n" +
      "Max processes             63480                63480                processes \n" +
      `Max open files            ${soft.padEnd(21)}${
        hard.padEnd(21)
      }files     \n`;
    assert.equal(maxOpenFiles(limits("1024", "524288")), 1024);
    assert.equal(maxOpenFiles(limits("unlimited", "unlimited")), undefined);
    assert.equal(maxOpenFiles(undefined), undefined);
  });

  it("report memory and file descriptors of this process, max_fds included (Linux)", async (t) => {
    if (!linux) return t.skip("needs Linux /proc");
    // deno test -A and bun: everything is readable
    const text = await createRegistry({ namespace: "self" }).metrics();
    assertProcessSeries(text, procValues("self"), ALL);
  });

  // npm start's permissions, none, and all: under the first two Deno cannot
  // open /proc/self (it needs --allow-all), and used to report 0 for the
  // memory and descriptor series and leave out max_fds
  const cases: Array<[flags: string[], required: string[]]> = [
    [["--allow-net", "--allow-env", "--allow-read"], [ALL[0]]],
    [[], [ALL[0]]],
    [["-A"], ALL],
  ];
  for (const [flags, required] of cases) {
    it(`on Deno with ${flags.join(" ") || "no permission"}: each series right or absent, never 0`, async (t) => {
      if (!linux) return t.skip("needs Linux /proc");
      const child = spawnScript(
        new URL("./testdata/process_metrics.ts", import.meta.url),
        { runtime: "deno", denoFlags: flags },
      );
      try {
        const text = JSON.parse(await child.line((l) => l.startsWith('"')));
        const present = assertProcessSeries(
          text,
          procValues(child.process.pid!),
          required,
        );
        if (flags.includes("-A")) assert.deepEqual(present, ALL);
      } finally {
        child.signal("SIGKILL");
        await child.exited;
      }
    });
  }
});
