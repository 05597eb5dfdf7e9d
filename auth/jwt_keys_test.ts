import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { JWT_ALGORITHMS } from "@cqi/config";
import {
  ALGORITHMS,
  ASYMMETRIC,
  defaultAlgorithms,
  fits,
  HMAC,
  parsePublicKeys,
  spkiShape,
} from "./jwt_keys.ts";
import { type Alg, makeKeys, type TestKey } from "./testdata/fixtures.ts";

let keys: Record<Alg, TestKey>;
before(async () => {
  keys = await makeKeys();
});

const parse = (input: unknown) => parsePublicKeys(input, "test");

// Minimal DER builders for hand-made SPKIs.
const tlv = (tag: number, ...parts: Uint8Array[]) => {
  const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) body.set(p, (at += p.length) - p.length);
  const len = body.length < 128
    ? [body.length]
    : [0x82, body.length >> 8, body.length & 0xff];
  return new Uint8Array([tag, ...len, ...body]);
};
const hex = (h: string) =>
  new Uint8Array(h.match(/../g)!.map((b) => parseInt(b, 16)));
const pem = (der: Uint8Array) =>
  `-----BEGIN PUBLIC KEY-----\n${
    btoa(String.fromCharCode(...der))
  }\n-----END PUBLIC KEY-----`;
const spki = (oid: string, param?: Uint8Array, key = new Uint8Array(33)) =>
  tlv(
    0x30,
    tlv(0x30, tlv(0x06, hex(oid)), ...(param ? [param] : [])),
    tlv(0x03, new Uint8Array([0]), key),
  );

describe("parsePublicKeys", () => {
  it("reads PEM keys of each type", () => {
    assert.deepEqual(pick(parse(keys.RS256.pem)[0]), {
      kty: "RSA",
      bits: 2048,
    });
    assert.deepEqual(pick(parse(keys.ES256.pem)[0]), {
      kty: "EC",
      crv: "P-256",
    });
    assert.deepEqual(pick(parse(`  ${keys.EdDSA.pem}\n\n`)[0]), {
      kty: "OKP",
      crv: "Ed25519",
    });
  });

  it("reads JWK objects, JWK JSON and JWKS JSON", () => {
    assert.deepEqual(pick(parse(keys.ES256.jwk)[0]), {
      kty: "EC",
      crv: "P-256",
      kid: "ES256-1",
    });
    assert.equal(parse(JSON.stringify(keys.RS256.jwk))[0].kid, "RS256-1");
    const set = JSON.stringify({ keys: [keys.RS256.jwk, keys.EdDSA.jwk] });
    assert.deepEqual(parse(set).map((k) => k.kty), ["RSA", "OKP"]);
    assert.deepEqual(
      parse([keys.RS256.pem, keys.ES256.jwk]).map((k) => k.kty),
      ["RSA", "EC"],
    );
  });

  it("imports a key once per algorithm", async () => {
    const [key] = parse(keys.RS256.pem);
    const a = key.import("RS256");
    assert.equal(key.import("RS256"), a);
    assert.notEqual(key.import("PS256"), a);
    assert.equal((await a).type, "public");
    await key.import("PS256");
  });

  it("refuses private, symmetric, short, unsupported and malformed keys", async () => {
    const { privateKey } = await crypto.subtle.generateKey(
      { name: "ECDSA", namedCurve: "P-256" },
      true,
      ["sign", "verify"],
    ) as CryptoKeyPair;
    const privateJwk = await crypto.subtle.exportKey("jwk", privateKey);
    const weak = await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    ) as CryptoKeyPair;
    const weakDer = new Uint8Array(
      await crypto.subtle.exportKey("spki", weak.publicKey),
    );
    const weakJwk = await crypto.subtle.exportKey("jwk", weak.publicKey);
    const cases: Array<[unknown, RegExp]> = [
      [[], /publicKey must not be an empty list/],
      [privateJwk, /a private key was given/],
      [
        { kty: "oct", k: "c2VjcmV0" },
        /symmetric JWK .* configure it as secret/,
      ],
      [
        { kty: "EC", crv: "secp256k1", x: "a", y: "b" },
        /unsupported or incomplete JWK/,
      ],
      [{ kty: "RSA", n: "abc" }, /unsupported or incomplete JWK/],
      [
        { ...keys.ES256.jwk, alg: "RS256" },
        /alg "RS256" does not fit a EC key/,
      ],
      [{ ...keys.ES256.jwk, alg: "none" }, /alg "none" does not fit/],
      [{ ...keys.ES256.jwk, kid: 7 }, /kid must be a string/],
      [{ ...keys.ES256.jwk, use: "enc" }, /use must be "sig"/],
      [
        { ...keys.ES256.jwk, key_ops: ["encrypt"] },
        /key_ops must include "verify"/,
      ],
      [weakJwk, /RSA keys must be at least 2048 bits, got 1024/],
      [pem(weakDer), /RSA keys must be at least 2048 bits, got 1024/],
      ["{not json", /not valid JWK JSON/],
      [
        "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----",
        /expected an SPKI PEM/,
      ],
      [
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        /expected an SPKI PEM/,
      ],
      ["ssh-ed25519 AAAA", /expected an SPKI PEM/],
      [
        "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----",
        /malformed PEM/,
      ],
      ["-----BEGIN PUBLIC KEY-----\nAAAA\n", /malformed PEM/],
      [pem(spki("2b6571")), /unsupported key in PEM/], // Ed448
      [
        pem(spki("2a8648ce3d0201", tlv(0x06, hex("2b8104000a")))),
        /unsupported key in PEM/,
      ], // secp256k1
      [42, /expected a JWK object or a PEM string/],
      [[keys.ES256.pem, null], /publicKey\[1\]: expected a JWK object/],
    ];
    for (const [input, pattern] of cases) {
      assert.throws(() => parse(input), pattern, String(pattern));
    }
  });
});

describe("spkiShape", () => {
  it("reads hand-made SPKIs and rejects broken DER", () => {
    assert.deepEqual(spkiShape(spki("2b6570")), { kty: "OKP", crv: "Ed25519" });
    assert.deepEqual(
      spkiShape(spki("2a8648ce3d0201", tlv(0x06, hex("2b81040022")))),
      { kty: "EC", crv: "P-384" },
    );
    assert.deepEqual(
      spkiShape(spki("2a8648ce3d0201", tlv(0x06, hex("2b81040023")))),
      { kty: "EC", crv: "P-521" },
    );
    const broken = [
      new Uint8Array(),
      new Uint8Array([0x30]),
      new Uint8Array([0x30, 0x85, 1, 1, 1, 1, 1]),
      new Uint8Array([0x30, 0x80]),
      new Uint8Array([0x31, 0]),
      tlv(0x30, tlv(0x31)),
      tlv(0x30, tlv(0x30, tlv(0x05))),
      tlv(0x30, tlv(0x30, tlv(0x06, hex("2b6570")))), // no bit string
      new Uint8Array([...spki("2b6570"), 0]), // trailing byte
      spki("2a8648ce3d0201"), // EC without curve
      spki("2a864886f70d010101", tlv(0x05), tlv(0x31)), // RSA key not a SEQUENCE
    ];
    for (const der of broken) assert.equal(spkiShape(der), undefined);
  });
});

describe("fits and defaultAlgorithms", () => {
  it("match algorithms to key types", () => {
    const rsa = { kty: "RSA" as const };
    const p384 = { kty: "EC" as const, crv: "P-384" };
    const ed = { kty: "OKP" as const, crv: "Ed25519" };
    assert.ok(fits(rsa, "RS256") && fits(rsa, "PS512"));
    assert.ok(!fits(rsa, "ES256") && !fits(rsa, "HS256"));
    assert.ok(fits(p384, "ES384") && !fits(p384, "ES256"));
    assert.ok(fits(ed, "EdDSA") && fits(ed, "Ed25519") && !fits(ed, "ES256"));
    assert.ok(!fits({ ...rsa, alg: "RS512" }, "RS256"));
    assert.deepEqual(defaultAlgorithms(p384), ["ES384"]);
    assert.deepEqual(defaultAlgorithms({ kty: "EC", crv: "P-521" }), ["ES512"]);
    assert.deepEqual(defaultAlgorithms({ ...rsa, alg: "PS256" }), ["PS256"]);
  });
});

function pick(key: object) {
  return Object.fromEntries(
    Object.entries(key).filter(([name]) => name !== "import"),
  );
}

describe("the algorithm list", () => {
  it("is @cqi/config's JWT_ALGORITHMS, the same object", () => {
    assert.equal(ALGORITHMS, JWT_ALGORITHMS);
    assert.deepEqual([...HMAC.keys(), ...ASYMMETRIC], [...JWT_ALGORITHMS]);
    assert.ok(ASYMMETRIC.has("Ed25519"));
    assert.deepEqual([...HMAC], [["HS256", 32], ["HS384", 48], [
      "HS512",
      64,
    ]]);
  });
});
