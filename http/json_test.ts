import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { json, serve } from "./mod.ts";

describe("json", () => {
  it("declares the Content-Length the wire carries, for any JSON value", async () => {
    let value: unknown;
    await using server = serve(() => json(value, { status: 201 }), {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
      onListen: () => {},
    });
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (v) => {
        value = v;
        const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
        const bytes = new Uint8Array(await res.arrayBuffer());
        assert.equal(res.status, 201);
        assert.equal(res.headers.get("content-length"), String(bytes.length));
        assert.deepEqual(
          JSON.parse(new TextDecoder().decode(bytes)),
          JSON.parse(JSON.stringify(v)),
        );
      }),
      { numRuns: 200 },
    );
  });

  it("declares the length of the body it sends when toJSON answers differently each time", async () => {
    let calls = 0;
    const restless = { toJSON: () => "x".repeat(++calls) };
    const res = json(restless);
    const body = await res.text();
    assert.equal(res.headers.get("content-length"), String(body.length));
  });

  it("is JSON on every runtime unless the caller chose a type", () => {
    const type = "application/json; charset=utf-8";
    assert.equal(json(1).headers.get("content-type"), type);
    assert.equal(json(1, { status: 201 }).headers.get("content-type"), type);
    assert.equal(
      json(1, { headers: { "x-a": "b" } }).headers.get("content-type"),
      type,
    );
    assert.equal(
      json(1, { headers: { "content-type": "application/problem+json" } })
        .headers.get("content-type"),
      "application/problem+json",
    );
  });

  it("throws as Response.json does for a value with no JSON form", () => {
    assert.throws(() => json(undefined), TypeError);
    assert.throws(() => json(1n), TypeError);
  });
});
