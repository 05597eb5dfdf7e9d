// The traceparent/tracestate rules of W3C Trace Context Level 1, case by
// case as the recommendation and its test suite state them.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatTraceparent,
  parseTraceparent,
  parseTracestate,
  truncate,
  W3CTraceState,
} from "./w3c.ts";

const T = "12345678901234567890123456789012";
const P = "1234567890123456";
const valid = `00-${T}-${P}-01`;

describe("traceparent", () => {
  it("parses version 00", () => {
    assert.deepEqual(parseTraceparent(valid), {
      traceId: T,
      spanId: P,
      traceFlags: 1,
    });
    assert.equal(parseTraceparent(`00-${T}-${P}-00`)?.traceFlags, 0);
  });

  it("keeps only the sampled bit of the flags", () => {
    assert.equal(parseTraceparent(`00-${T}-${P}-09`)?.traceFlags, 1);
    assert.equal(parseTraceparent(`00-${T}-${P}-fe`)?.traceFlags, 0);
  });

  it("ignores optional whitespace around the value", () => {
    for (
      const v of [` ${valid}`, `\t${valid}`, `${valid} `, `\t ${valid} \t`]
    ) {
      assert.equal(parseTraceparent(v)?.traceId, T, JSON.stringify(v));
    }
  });

  it("parses a higher version by the version-00 rules", () => {
    assert.equal(parseTraceparent(`cc-${T}-${P}-01`)?.traceId, T);
    assert.deepEqual(
      parseTraceparent(`cc-${T}-${P}-01-what-the-future-will-be-like`),
      { traceId: T, spanId: P, traceFlags: 1 },
    );
    // only the sampled bit of an unknown version's flags is used
    assert.equal(parseTraceparent(`01-${T}-${P}-03`)?.traceFlags, 1);
  });

  const invalid: Array<[string, string]> = [
    ["version ff", `ff-${T}-${P}-01`],
    [
      "extra fields on version 00",
      `00-${T}-${P}-01-what-the-future-will-be-like`,
    ],
    ["a trailing character on version 00", `00-${T}-${P}-01.`],
    [
      "a higher version whose flags are followed by a non-dash",
      `cc-${T}-${P}-01.what-the-future-will-be-like`,
    ],
    ["a higher version shorter than 55 characters", `cc-${T}-${P}-1`],
    ["an illegal character in the version", `.0-${T}-${P}-01`],
    ["an illegal character in the version (2)", `0.-${T}-${P}-01`],
    ["an uppercase version", `CC-${T}-${P}-01`],
    ["a 3-digit version", `000-${T}-${P}-01`],
    ["a 4-digit version", `0000-${T}-${P}-01`],
    ["a 1-digit version", `0-${T}-${P}-01`],
    ["an all-zero trace id", `00-${"0".repeat(32)}-${P}-01`],
    ["an illegal character in the trace id", `00-.${T.slice(1)}-${P}-01`],
    [
      "an illegal character at the end of the trace id",
      `00-${T.slice(0, -1)}.-${P}-01`,
    ],
    ["an uppercase trace id", `00-${T.slice(0, -1)}A-${P}-01`],
    ["a trace id too long", `00-${T}3-${P}-01`],
    ["a trace id too short", `00-${T.slice(1)}-${P}-01`],
    ["an all-zero parent id", `00-${T}-${"0".repeat(16)}-01`],
    ["an illegal character in the parent id", `00-${T}-.${P.slice(1)}-01`],
    [
      "an illegal character at the end of the parent id",
      `00-${T}-${P.slice(0, -1)}.-01`,
    ],
    ["a parent id too long", `00-${T}-${P}7-01`],
    ["a parent id too short", `00-${T}-${P.slice(1)}-01`],
    ["an illegal character in the flags", `00-${T}-${P}-.0`],
    ["an illegal character in the flags (2)", `00-${T}-${P}-0.`],
    ["flags too long", `00-${T}-${P}-001`],
    ["flags too short", `00-${T}-${P}-1`],
    ["two headers combined", `${valid}, 00-${T.replace("1", "a")}-${P}-01`],
    [
      "two higher-version headers combined",
      `cc-${T}-${P}-01-x, cc-${T}-${P}-01`,
    ],
    ["underscores for dashes", `00_${T}_${P}_01`],
    ["an empty value", ""],
  ];
  for (const [what, value] of invalid) {
    it(`ignores ${what}`, () => {
      assert.equal(parseTraceparent(value), undefined);
    });
  }

  it("ignores what is not a string", () => {
    assert.equal(parseTraceparent(null), undefined);
    assert.equal(parseTraceparent(undefined), undefined);
  });

  it("formats version 00 with only the sampled flag", () => {
    assert.equal(
      formatTraceparent({ traceId: T, spanId: P, traceFlags: 1 }),
      valid,
    );
    assert.equal(
      formatTraceparent({ traceId: T, spanId: P, traceFlags: 0x82 }),
      `00-${T}-${P}-00`,
    );
  });

  it("round-trips any valid ids, and never throws on any string", () => {
    const hexId = (n: number) =>
      fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`)).filter((s) =>
        /[1-9a-f]/.test(s)
      );
    fc.assert(
      fc.property(hexId(32), hexId(16), fc.boolean(), (t, p, sampled) => {
        const ids = { traceId: t, spanId: p, traceFlags: sampled ? 1 : 0 };
        assert.deepEqual(parseTraceparent(formatTraceparent(ids)), ids);
      }),
    );
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => {
      const parsed = parseTraceparent(s);
      if (parsed !== undefined) assert.match(parsed.traceId, /^[0-9a-f]{32}$/);
    }));
  });
});

describe("tracestate", () => {
  const entries = (v: string) => parseTracestate(v);

  it("parses members in order, with optional whitespace and empty members", () => {
    assert.deepEqual(entries("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"), [
      ["rojo", "00f067aa0ba902b7"],
      ["congo", "t61rcWkgMzE"],
    ]);
    assert.deepEqual(entries("foo=1 \t , \t bar=2, \t baz=3"), [
      ["foo", "1"],
      ["bar", "2"],
      ["baz", "3"],
    ]);
    assert.deepEqual(entries("foo=1\t \t,\t \tbar=2"), [["foo", "1"], [
      "bar",
      "2",
    ]]);
    for (const v of [" foo=1", "\tfoo=1", "foo=1 ", "foo=1\t", "\t foo=1 \t"]) {
      assert.deepEqual(entries(v), [["foo", "1"]], JSON.stringify(v));
    }
    assert.deepEqual(entries(""), []);
    assert.deepEqual(entries("foo=1,,  ,bar=2"), [["foo", "1"], ["bar", "2"]]);
  });

  it("keeps a value's leading spaces", () => {
    assert.deepEqual(entries("foo=  x"), [["foo", "  x"]]);
  });

  it("accepts every allowed character in keys and values", () => {
    const key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
    const tenantKey = `${key}@a-z0-9_-*/`;
    let value = "";
    for (let c = 0x20; c <= 0x7e; c++) {
      if (c !== 0x2c && c !== 0x3d) value += String.fromCharCode(c);
    }
    assert.deepEqual(entries(`${key}=${value}`), [[key, value]]);
    assert.deepEqual(entries(`${tenantKey}=${value}`), [[tenantKey, value]]);
  });

  it("accepts 32 members", () => {
    const list = Array.from({ length: 32 }, (_, i) => `bar${i}=${i}`).join(",");
    assert.equal(entries(list)?.length, 32);
  });

  it("accepts the longest keys", () => {
    assert.ok(entries(`${"z".repeat(256)}=1`));
    assert.ok(entries(`${"t".repeat(241)}@${"v".repeat(14)}=1`));
    assert.ok(
      entries(`${"0".repeat(241)}@v=1`),
      "a tenant may start with a digit",
    );
  });

  const invalid: Array<[string, string]> = [
    [
      "33 members",
      Array.from({ length: 33 }, (_, i) => `bar${i}=${i}`).join(","),
    ],
    ["a duplicated key", "foo=1,foo=1"],
    ["a duplicated key with another value", "foo=1,foo=2"],
    ["a space before the equals sign", "foo =1"],
    ["an uppercase key", "FOO=1"],
    ["a dot in the key", "foo.bar=1"],
    ["a simple key starting with a digit", "1foo=1"],
    ["an empty tenant", "@foo=1,bar=2"],
    ["an empty vendor", "foo@=1,bar=2"],
    ["two at signs", "foo@@bar=1,bar=2"],
    ["two vendors", "foo@bar@baz=1,bar=2"],
    ["a 257-character key", `foo=1,${"z".repeat(257)}=1`],
    ["a 242-character tenant", `foo=1,${"t".repeat(242)}@v=1`],
    ["a 15-character vendor", `foo=1,t@${"v".repeat(15)}=1`],
    ["an equals sign in the value", "foo=bar=baz"],
    ["an empty value", "foo=,bar=3"],
    ["a value of spaces", "foo=   ,bar=3"],
    ["a 257-character value", `foo=${"v".repeat(257)}`],
    ["a non-ASCII value", "foo=café"],
    ["a member without an equals sign", "foo,bar=2"],
    ["a member without a key", "=1"],
  ];
  for (const [what, value] of invalid) {
    it(`drops the whole header for ${what}`, () => {
      assert.equal(entries(value), undefined);
    });
  }

  it("truncates by whole entries: long ones first, then from the end", () => {
    const big = (k: string) => [k, "x".repeat(150)] as [string, string];
    const small = (k: string) => [k, "y".repeat(60)] as [string, string];
    // 3 big (152 each) + 6 small (62 each) + 8 commas = 836 > 512
    const list = [
      small("a"),
      big("b"),
      small("c"),
      big("d"),
      small("e"),
      small("f"),
      big("g"),
      small("h"),
      small("i"),
    ];
    const out = truncate(list);
    const length = out.map(([k, v]) => `${k}=${v}`).join(",").length;
    assert.ok(length <= 512, `length ${length}`);
    // dropping g and d (the rightmost big ones) leaves 530: then b goes
    assert.deepEqual(out.map(([k]) => k), ["a", "c", "e", "f", "h", "i"]);
    const onlySmall = Array.from({ length: 10 }, (_, i) => small(`k${i}`));
    assert.deepEqual(
      truncate(onlySmall).map(([k]) => k),
      ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"],
      "then from the end",
    );
    assert.equal(truncate(list.slice(0, 2)).length, 2, "short lists are kept");
  });

  it("parses an over-long list into its truncated form", () => {
    const list = Array.from(
      { length: 12 },
      (_, i) => `k${i}=${"v".repeat(60)}`,
    );
    const parsed = parseTracestate(list.join(","));
    assert.equal(parsed?.length, 8);
    assert.equal(parsed?.[0][0], "k0");
  });
});

describe("W3CTraceState", () => {
  it("sets an entry at the front, replacing its old position", () => {
    const state = W3CTraceState.parse("rojo=1,congo=2")!;
    assert.equal(state.set("congo", "3").serialize(), "congo=3,rojo=1");
    assert.equal(state.set("new", "x").serialize(), "new=x,rojo=1,congo=2");
    assert.equal(state.serialize(), "rojo=1,congo=2", "immutable");
  });

  it("ignores an invalid set, unsets and gets", () => {
    const state = W3CTraceState.parse("rojo=1,congo=2")!;
    assert.equal(state.set("Bad", "x"), state);
    assert.equal(state.set("ok", "a=b"), state);
    assert.equal(state.unset("rojo").serialize(), "congo=2");
    assert.equal(state.get("congo"), "2");
    assert.equal(state.get("nope"), undefined);
    assert.equal(W3CTraceState.parse("FOO=1"), undefined);
  });

  it("keeps at most 32 entries and serializes to at most 512 characters", () => {
    let state = new W3CTraceState();
    for (let i = 0; i < 40; i++) state = state.set(`k${i}`, "v".repeat(30));
    assert.equal(state.serialize().split(",").length, 14); // 14 × 34 + 13 commas = 489
    assert.ok(state.serialize().startsWith("k39="), "newest first");
  });
});
