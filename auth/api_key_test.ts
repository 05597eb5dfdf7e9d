import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { isUnauthorized } from "@cqi/errors";
import {
  createApiKeyVerifier,
  generateApiKey,
  hashApiKey,
  verifyApiKey,
} from "./mod.ts";
import { findDigest } from "./api_key.ts";
import { failureOf } from "./failure.ts";

const KEY = "k3y-0123456789abcdef";

async function refusedWith(key: string, keys = [{ id: "k", key: KEY }]) {
  const error = await verifyApiKey(key, createApiKeyVerifier({ keys })).then(
    () => assert.fail("accepted"),
    (e) => e,
  );
  assert.ok(isUnauthorized(error));
  assert.equal(error.message, "invalid credentials");
  return failureOf(error)?.message;
}

describe("verifyApiKey", () => {
  it("identifies the key by plain key, hash, or Secret-like", async () => {
    const verifier = createApiKeyVerifier({
      keys: [
        { id: "a", key: "key-a", serviceId: "svc-a", scopes: ["x", "y"] },
        { id: "b", hash: (await hashApiKey("key-b")).toUpperCase() },
        { id: "c", key: { reveal: () => "key-c" } },
      ],
    });
    assert.deepEqual(verifier.ids, ["a", "b", "c"]);
    const a = await verifyApiKey("key-a", verifier);
    assert.deepEqual(a, {
      authType: "api_key",
      keyId: "a",
      serviceId: "svc-a",
      scopes: ["x", "y"],
      claims: {},
    });
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a.scopes));
    assert.equal((await verifyApiKey("key-b", verifier)).keyId, "b");
    assert.equal((await verifyApiKey("key-c", verifier)).keyId, "c");
    assert.equal((await verifyApiKey("key-c", verifier)).serviceId, undefined);
  });

  it("refuses a different length, a one-character difference, empty and oversized keys", async () => {
    assert.equal(await refusedWith(KEY.slice(0, -1)), "unknown api key");
    assert.equal(await refusedWith(`${KEY}0`), "unknown api key");
    for (let i = 0; i < KEY.length; i++) {
      const key = KEY.slice(0, i) + (KEY[i] === "x" ? "y" : "x") +
        KEY.slice(i + 1);
      assert.equal(await refusedWith(key), "unknown api key");
    }
    assert.equal(await refusedWith(KEY.toUpperCase()), "unknown api key");
    assert.equal(await refusedWith(""), "empty api key");
    assert.equal(await refusedWith("k".repeat(4097)), "api key too long");
    assert.equal(
      await refusedWith(undefined as unknown as string),
      "empty api key",
    );
  });

  it("accepts a key again and refuses near misses after it was accepted", async () => {
    const verifier = createApiKeyVerifier({
      keys: [{ id: "k", key: KEY }, {
        id: "h",
        hash: await hashApiKey("h-key"),
      }],
    });
    const first = await verifyApiKey(KEY, verifier);
    const refuse = async (key: string) => {
      const error = await verifyApiKey(key, verifier).catch((e) => e);
      assert.ok(isUnauthorized(error), `${key} refused`);
    };
    for (const near of [KEY.slice(0, -1), `${KEY}0`, KEY.toUpperCase(), ""]) {
      await refuse(near);
    }
    for (let i = 0; i < KEY.length; i++) {
      await refuse(
        KEY.slice(0, i) + (KEY[i] === "x" ? "y" : "x") + KEY.slice(i + 1),
      );
    }
    assert.equal(await verifyApiKey(KEY, verifier), first);
    assert.equal((await verifyApiKey("h-key", verifier)).keyId, "h");
    assert.equal((await verifyApiKey("h-key", verifier)).keyId, "h");
    await refuse("h-kez");
  });

  it("shows no plain key through the verifier", async () => {
    const verifier = createApiKeyVerifier({ keys: [{ id: "k", key: KEY }] });
    await verifyApiKey(KEY, verifier);
    const shown = inspect(verifier, { showHidden: true, depth: 10 }) +
      JSON.stringify(verifier);
    assert.ok(!shown.includes(KEY));
    assert.deepEqual(Object.keys(verifier), ["ids"]);
  });

  it("refuses a verifier it did not make", async () => {
    await assert.rejects(
      verifyApiKey(KEY, { ids: ["k"] }),
      /verifier must come from createApiKeyVerifier/,
    );
  });
});

describe("createApiKeyVerifier", () => {
  it("validates records and names the bad one", () => {
    const cases: Array<[unknown, RegExp]> = [
      [undefined, /keys must be a non-empty array/],
      [[], /keys must be a non-empty array/],
      [[{ key: "k" }], /keys\[0\]\.id must be a non-empty string/],
      [
        [{ id: "a", key: "k" }, { id: "a", key: "j" }],
        /keys\[1\]\.id "a" repeats/,
      ],
      [[{ id: "a" }], /keys\[0\]: expected exactly one of key and hash/],
      [
        [{ id: "a", key: "k", hash: "00" }],
        /expected exactly one of key and hash/,
      ],
      [[{ id: "a", hash: "abc" }], /keys\[0\]\.hash must be 64 hex digits/],
      [[{ id: "a", key: "" }], /keys\[0\]\.key must be a non-empty string/],
      [
        [{ id: "a", key: { reveal: () => 1 } }],
        /key must be a non-empty string/,
      ],
      [
        [{ id: "a", key: "k", scopes: "x" }],
        /scopes must be an array of strings/,
      ],
      [
        [{ id: "a", key: "k", scopes: [1] }],
        /scopes must be an array of strings/,
      ],
      [[{ id: "a", key: "k", serviceId: 1 }], /serviceId must be a string/],
    ];
    for (const [keys, pattern] of cases) {
      assert.throws(
        () => createApiKeyVerifier({ keys } as never),
        pattern,
        String(pattern),
      );
    }
  });
});

describe("findDigest", () => {
  const digest = (fill: number) => new Uint8Array(32).fill(fill);
  const concat = (...ds: Uint8Array[]) => {
    const out = new Uint8Array(ds.length * 32);
    ds.forEach((d, i) => out.set(d, i * 32));
    return out;
  };

  it("finds the first equal digest and compares every byte", () => {
    const all = concat(digest(1), digest(2), digest(2));
    assert.equal(findDigest(digest(1), all), 0);
    assert.equal(findDigest(digest(2), all), 1);
    assert.equal(findDigest(digest(3), all), -1);
    for (const at of [0, 15, 31]) {
      const almost = digest(2);
      almost[at] ^= 0x80;
      assert.equal(findDigest(almost, all), -1, `byte ${at}`);
    }
    assert.equal(findDigest(digest(0), new Uint8Array()), -1);
  });
});

describe("hashApiKey and generateApiKey", () => {
  it("hash with SHA-256 in hex", async () => {
    assert.equal(
      await hashApiKey("test"),
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    );
    await assert.rejects(
      hashApiKey(""),
      /hashApiKey: key must be a non-empty string/,
    );
  });

  it("generate distinct bearer-safe keys", () => {
    const keys = new Set(Array.from({ length: 50 }, generateApiKey));
    assert.equal(keys.size, 50);
    for (const key of keys) assert.match(key, /^[A-Za-z0-9_-]{43}$/);
  });
});
