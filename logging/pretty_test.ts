import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { notFound } from "@cqi/errors";
import { createLogger, memorySink } from "./mod.ts";
import { pretty, prettySink } from "./pretty.ts";

function line(fields: Record<string, unknown>, level = "info"): string {
  const sink = memorySink();
  createLogger({ service: { name: "s" }, level: "trace", output: sink })[
    level as "info"
  ]("hello", fields);
  return sink.lines[0];
}

describe("pretty format", () => {
  it("shows time, level and message, then the other fields", () => {
    const text = pretty(line({ n: 1, s: "plain", q: 'has "quotes"' }), false);
    assert.match(text, /^\d{2}:\d{2}:\d{2}\.\d{3} INFO {2}hello n=1 s=plain /);
    assert.match(text, /q="has \\"quotes\\""/);
    assert.ok(text.endsWith("\n"));
    assert.ok(!text.includes("service_name"));
  });

  it("colours the level and dims the rest on a terminal", () => {
    const text = pretty(line({ n: 1 }, "error"), true);
    assert.ok(text.includes("\x1b[31mERROR\x1b[0m"));
    assert.ok(text.includes("\x1b[2mn=\x1b[0m"));
  });

  it("prints the error's stack and each cause below the line", () => {
    const text = pretty(
      line({ error: new Error("outer", { cause: notFound("order", 1) }) }),
      false,
    );
    const [, ...rest] = text.trimEnd().split("\n");
    assert.match(rest[0], /^ {4}\[NOT_FOUND\] Error: outer$/);
    assert.ok(
      rest.some((l) =>
        /^ {4}caused by: \[NOT_FOUND\] CqiError: order "1" not found$/.test(l)
      ),
    );
  });

  it("passes through a line that is not JSON", () => {
    assert.equal(pretty("not json\n", false), "not json\n");
  });

  it("forwards flush and close to the sink it wraps", async () => {
    const inner = memorySink();
    const calls: string[] = [];
    const sink = prettySink({
      ...inner,
      write: inner.write,
      flush: () => Promise.resolve(void calls.push("flush")),
      close: () => Promise.resolve(void calls.push("close")),
    }, false);
    sink.write(line({}));
    await sink.flush();
    await sink.close();
    assert.deepEqual(calls, ["flush", "close"]);
    assert.match(inner.lines[0], /INFO {2}hello/);
    inner.clear();
    assert.equal(inner.lines.length, 0);
  });
});
