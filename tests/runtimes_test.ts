// The same CQI middleware value runs unchanged on Deno.serve, Bun.serve and
// Hono (on both runtimes) and gives byte-identical responses.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Child, spawnScript } from "./_util.ts";

const script = new URL("./testdata/same_stack.ts", import.meta.url);
const requests: Array<[string, RequestInit?]> = [
  ["/items/7"],
  ["/items/7", { headers: { authorization: "Bearer ok" } }],
  ["/items/7", { headers: { authorization: "Bearer wrong" } }],
  ["/items/7", { method: "PUT", body: '{"qty":3}' }],
  ["/items/7", { method: "PUT", body: "{not json" }],
  ["/missing/x"],
  ["/boom"],
  ["/nowhere"],
  ["/old", { redirect: "manual" }],
  ["/items/7", { method: "HEAD" }],
];

async function snapshot(port: string) {
  const out = [];
  for (const [path, init] of requests) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
    // Connection management is the runtime's (fetch shows that header from
    // some servers only).
    const headers = [...res.headers].filter(([k]) =>
      k !== "date" && k !== "content-length" && k !== "connection"
    );
    out.push({ path, status: res.status, headers, body: await res.text() });
  }
  return out;
}

describe("one middleware stack on every runtime", () => {
  it("answers identically on Deno.serve, Bun.serve and Hono", async () => {
    const variants = ["deno native", "deno hono", "bun native", "bun hono"];
    const children: Child[] = variants.map((v) => {
      const [runtime, mode] = v.split(" ") as ["deno" | "bun", string];
      return spawnScript(script, { runtime, args: [mode] });
    });
    try {
      const results = [];
      for (const child of children) {
        const port = (await child.line((l) => l.startsWith("port "))).slice(5);
        results.push(await snapshot(port));
      }
      const [reference, ...others] = results;
      assert.equal(reference[0].status, 200);
      assert.equal(reference[6].status, 500);
      assert.ok(!reference[6].body.includes("secret"));
      others.forEach((result, i) =>
        assert.deepEqual(
          result,
          reference,
          `${variants[i + 1]} differs from ${variants[0]}`,
        )
      );
    } finally {
      for (const child of children) child.signal("SIGKILL");
      await Promise.all(children.map((c) => c.exited));
    }
  });
});
