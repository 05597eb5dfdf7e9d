import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createLogger, DEFAULT_REDACT, memorySink } from "./mod.ts";
import { Serializer } from "./serialize.ts";

// Every line must parse; returns the fields of the one line logged.
function logged(
  fields: Record<string, unknown>,
  redact?: readonly string[],
): Record<string, unknown> {
  const sink = memorySink();
  createLogger({ output: sink, level: "info", redact }).info("m", fields);
  assert.equal(sink.lines.length, 1);
  return JSON.parse(sink.lines[0]);
}

describe("redaction", () => {
  it("redacts the default keys at any depth, in any case", () => {
    const record = logged({
      password: "hunter2",
      user: {
        Authorization: "Bearer abc",
        profile: { TOKEN: "t", name: "ada" },
        keys: [{ apikey: "k1" }, { ApiKey: "k2" }],
      },
      secret: { nested: "whole value" },
      headers: new Map([["authorization", "Basic x"]]),
    });
    const text = JSON.stringify(record);
    for (const value of ["hunter2", "Bearer abc", "k1", "k2", "whole value"]) {
      assert.ok(!text.includes(value), value);
    }
    assert.equal(record.password, "[REDACTED]");
    assert.deepEqual(record.user, {
      Authorization: "[REDACTED]",
      profile: { TOKEN: "[REDACTED]", name: "ada" },
      keys: [{ apikey: "[REDACTED]" }, { ApiKey: "[REDACTED]" }],
    });
    assert.equal(record.secret, "[REDACTED]");
    assert.deepEqual(record.headers, { authorization: "[REDACTED]" });
    assert.deepEqual(DEFAULT_REDACT, [
      "password",
      "authorization",
      "token",
      "apiKey",
      "secret",
      "cookie",
    ]);
  });

  it("uses the configured list instead of the default", () => {
    const record = logged({ ssn: "123", password: "p", deep: { SSN: "4" } }, [
      "ssn",
    ]);
    assert.equal(record.ssn, "[REDACTED]");
    assert.deepEqual(record.deep, { SSN: "[REDACTED]" });
    assert.equal(record.password, "p");
  });

  it("extends the default list when spread", () => {
    const record = logged({ ssn: "1", password: "p" }, [
      ...DEFAULT_REDACT,
      "ssn",
    ]);
    assert.equal(record.ssn, "[REDACTED]");
    assert.equal(record.password, "[REDACTED]");
  });

  it("redacts bound fields too", () => {
    const sink = memorySink();
    createLogger({ output: sink }).child({ token: "t" }).info("x");
    assert.equal(sink.records[0].token, "[REDACTED]");
  });

  it("keeps working once the key cache is full", () => {
    const serializer = new Serializer(["secret"]);
    for (let i = 0; i < 5000; i++) serializer.fields({ [`k${i}`]: i });
    assert.equal(
      serializer.fields({ fresh: 1, secret: "s" }),
      ',"fresh":1,"secret":"[REDACTED]"',
    );
    assert.equal(serializer.value({ nested1: 1 }, 0), '{"nested1":1}');
  });
});

describe("values that JSON.stringify cannot write", () => {
  it("writes cycles as [Circular], and shared objects twice", () => {
    const a: Record<string, unknown> = { name: "a" };
    a.self = a;
    const list: unknown[] = [1];
    list.push(list);
    const shared = { x: 1 };
    const record = logged({ a, list, pair: [shared, shared] });
    assert.deepEqual(record.a, { name: "a", self: "[Circular]" });
    assert.deepEqual(record.list, [1, "[Circular]"]);
    assert.deepEqual(record.pair, [{ x: 1 }, { x: 1 }]);
  });

  it("writes BigInt, symbols, functions, Map, Set, Date and binary", () => {
    const record = logged({
      big: 12345678901234567890n,
      sym: Symbol("s"),
      fn: function named() {},
      arrow: (() => () => {})(),
      map: new Map<unknown, unknown>([["a", 1], [2, { b: 2n }]]),
      set: new Set([1, "x"]),
      date: new Date(0),
      bad_date: new Date(NaN),
      bytes: new Uint8Array(3),
      buffer: new ArrayBuffer(8),
      nan: NaN,
      inf: -Infinity,
      undef: undefined,
      nil: null,
      list: [undefined, () => {}],
      url: new URL("http://x/y"),
    });
    assert.equal(record.big, "12345678901234567890");
    assert.equal(record.sym, "Symbol(s)");
    assert.equal(record.fn, "[Function named]");
    assert.equal(record.arrow, "[Function (anonymous)]");
    assert.deepEqual(record.map, { a: 1, 2: { b: "2" } });
    assert.deepEqual(record.set, [1, "x"]);
    assert.equal(record.date, "1970-01-01T00:00:00.000Z");
    assert.equal(record.bad_date, null);
    assert.equal(record.bytes, "[Uint8Array(3)]");
    assert.equal(record.buffer, "[ArrayBuffer(8)]");
    assert.equal(record.nan, null);
    assert.equal(record.inf, null);
    assert.ok(!("undef" in record));
    assert.equal(record.nil, null);
    assert.deepEqual(record.list, [null, "[Function (anonymous)]"]);
    assert.equal(record.url, "http://x/y");
  });

  it("writes Errors anywhere as error objects", () => {
    const record = logged({ nested: { err: new TypeError("bad") } });
    const err = (record.nested as { err: Record<string, unknown> }).err;
    assert.equal(err.type, "TypeError");
    assert.equal(err.message, "bad");
    assert.deepEqual(err.cause, []);
  });

  it("survives throwing getters, throwing toJSON and revoked proxies", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const record = logged({
      getter: {
        ok: 1,
        get boom() {
          throw new Error("getter");
        },
      },
      to_json: {
        toJSON() {
          throw new Error("toJSON");
        },
      },
      proxy,
      in_map: new Map([["p", proxy]]),
      top: Object.defineProperty({}, "x", {
        enumerable: true,
        get() {
          throw new Error("top");
        },
      }),
    });
    assert.deepEqual(record.getter, { ok: 1, boom: "[Unserializable]" });
    assert.equal(record.to_json, "[Unserializable]");
    assert.equal(record.proxy, "[Unserializable]");
    assert.deepEqual(record.in_map, { p: "[Unserializable]" });
    assert.deepEqual(record.top, { x: "[Unserializable]" });
  });

  it("cuts off deep nesting", () => {
    let deep: unknown = "bottom";
    for (let i = 0; i < 20; i++) deep = { d: deep };
    let deepList: unknown = [];
    for (let i = 0; i < 20; i++) deepList = [deepList];
    const text = JSON.stringify(logged({ deep, deepList }));
    assert.ok(text.includes('"[Object]"'));
    assert.ok(text.includes('"[Array]"'));
  });

  it("skips inherited properties and writes objects without a prototype", () => {
    const base = { inherited: 1 };
    const child = Object.create(base);
    child.own = 2;
    const bare = Object.create(null);
    bare.k = "v";
    const record = logged({ child, bare });
    assert.deepEqual(record.child, { own: 2 });
    assert.deepEqual(record.bare, { k: "v" });
  });

  it("uses toJSON where an object has one", () => {
    const record = logged({
      money: { toJSON: () => ({ amount: 1, password: "p" }) },
    });
    assert.deepEqual(record.money, { amount: 1, password: "[REDACTED]" });
  });
});

describe("agreement with JSON.stringify", () => {
  // Keys that would be redacted or renamed are kept out.
  const key = fc.string().filter((k) =>
    !["password", "authorization", "token", "apikey", "secret"].includes(
      k.toLowerCase(),
    ) &&
    !["timestamp", "level", "message", "service_name", "trace_id", "span_id"]
      .includes(k) &&
    k !== "__proto__"
  );
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.string({ unit: "binary" }),
      fc.double(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(key, tie("value"), { maxKeys: 4 }),
    ),
  })).value;

  it("writes what JSON.stringify would, for any JSON value", () => {
    fc.assert(
      fc.property(fc.dictionary(key, json, { maxKeys: 6 }), (fields) => {
        const serializer = new Serializer(DEFAULT_REDACT);
        const text = "{" + serializer.fields(fields).slice(1) + "}";
        assert.deepEqual(
          JSON.parse(text),
          JSON.parse(JSON.stringify(fields)),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe("redaction by word", () => {
  it("redacts keys that contain a listed word, whatever their separators", () => {
    const s = new Serializer(DEFAULT_REDACT);
    const out = JSON.parse(
      "{" +
        s.fields({
          "x-api-key": "k1",
          access_token: "t1",
          refreshToken: "t2",
          "Set-Cookie": "c=1",
          DB_PASSWORD: "p",
          nested: { clientSecret: "s", ok: 1 },
          user: "ada",
        }).slice(1) + "}",
    );
    assert.deepEqual(out, {
      "x-api-key": "[REDACTED]",
      access_token: "[REDACTED]",
      refreshToken: "[REDACTED]",
      "Set-Cookie": "[REDACTED]",
      DB_PASSWORD: "[REDACTED]",
      nested: { clientSecret: "[REDACTED]", ok: 1 },
      user: "ada",
    });
  });

  it("never throws on fields that cannot be enumerated", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const s = new Serializer(DEFAULT_REDACT);
    assert.equal(s.fields(proxy), ',"_fields":"[Unserializable]"');
  });
});
