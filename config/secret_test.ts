import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { format, inspect } from "node:util";
import * as v from "valibot";
import { Secret, secret } from "./mod.ts";

const VALUE = "hunter2-very-secret";

describe("Secret", () => {
  const s = new Secret(VALUE);

  it("reveals its value only when asked", () => {
    assert.equal(s.reveal(), VALUE);
  });

  it("prints [REDACTED] through String, templates and concatenation", () => {
    assert.equal(String(s), "[REDACTED]");
    assert.equal(`${s}`, "[REDACTED]");
    assert.equal("" + s, "[REDACTED]");
    assert.equal([s].join(), "[REDACTED]");
  });

  it("serialises as [REDACTED]", () => {
    assert.equal(JSON.stringify({ password: s }), '{"password":"[REDACTED]"}');
  });

  it("inspects as [REDACTED] with util.inspect and console formatting", () => {
    assert.equal(inspect(s), "[REDACTED]");
    assert.equal(
      inspect({ db: { password: s } }),
      "{ db: { password: [REDACTED] } }",
    );
    const formatted = format("%s %o %O %j", s, { s }, [s], { s });
    assert.ok(!formatted.includes(VALUE), formatted);
    assert.equal(formatted.match(/\[REDACTED\]/g)?.length, 4);
  });

  it("inspects as [REDACTED] with the runtime's own inspector", () => {
    const g = globalThis as {
      Deno?: { inspect(v: unknown): string };
      Bun?: { inspect(v: unknown): string };
    };
    const inspector = g.Deno?.inspect ?? g.Bun?.inspect;
    assert.ok(inspector !== undefined);
    const text = inspector({ nested: { token: s } });
    assert.ok(text.includes("[REDACTED]"), text);
    assert.ok(!text.includes(VALUE), text);
  });

  it("has no enumerable state to spread or copy", () => {
    assert.deepEqual(Object.keys(s), []);
    assert.equal(JSON.stringify({ ...s }), "{}");
  });
});

describe("secret()", () => {
  it("wraps a non-empty string", () => {
    const out = v.parse(secret(), "pw");
    assert.ok(out instanceof Secret);
    assert.equal(out.reveal(), "pw");
  });

  it("rejects an empty string and non-strings", () => {
    assert.equal(v.safeParse(secret(), "").success, false);
    assert.equal(v.safeParse(secret(), 42).success, false);
  });
});
