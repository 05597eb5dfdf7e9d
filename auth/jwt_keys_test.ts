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
} from "./jwt_keys.ts";
import { createJwtVerifier } from "./jwt.ts";
import { type Alg, makeKeys, type TestKey } from "./testdata/fixtures.ts";

let keys: Record<Alg, TestKey>;
before(async () => {
  keys = await makeKeys();
});

const parse = (input: unknown) => parsePublicKeys(input, "test");

const pem = (der: ArrayBuffer | Uint8Array) =>
  `-----BEGIN PUBLIC KEY-----\n${
    btoa(String.fromCharCode(...new Uint8Array(der)))
  }\n-----END PUBLIC KEY-----`;

// Real SPKIs of types jwt() does not support (Bun's BoringSSL cannot read the
// first two at all; Deno reads them and reports their type and curve).
const ED448 = `-----BEGIN PUBLIC KEY-----
MEMwBQYDK2VxAzoAQ5ed1YU2iCSel+cJHEPQklE/bOLo1DZbi4ZHHELF80In2mGc
Oews3wsX/MR6isbSS6A1IqP1j30A
-----END PUBLIC KEY-----`;
const SECP256K1 = `-----BEGIN PUBLIC KEY-----
MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAE1aByNkLnFe6L72ciZ57gH2rksqPFgGlo
Cgj5yCsJSXrZvjEN/mfkufBxXU+V2QBl+moO47g3s1ID/+vkE0UP8A==
-----END PUBLIC KEY-----`;
const X25519 = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VuAyEAmOPmS83R2FUOchx/DaqIQAXD+4a4jl7RuoL7icSdzS0=
-----END PUBLIC KEY-----`;
// An RSA key under the id-RSASSA-PSS OID (openssl genpkey -algorithm rsa-pss).
const RSA_PSS_OID = `-----BEGIN PUBLIC KEY-----
MIIBIDALBgkqhkiG9w0BAQoDggEPADCCAQoCggEBAKzyxd8PZDEQ4JXJQFaiqPgl
DG/MuXqDxeVEray8PXESSP6cPhDcCHBkopWCLlmX7fT5pZGSSef1fWFNV+P3K+sY
AA/Xl+j91+3EPgFBNh2haQdB1ylQwi6D4nh/USnyXXDHvG/MAUYw7XioowV/vKS6
BIiArcDr6bVi68+APC5LyROEuCY0w5HoshP8KI+Em3gej/7wlj4StQkJ1ynkeBLV
ysVCOyq55v5crxSrCMga3OH239J6HJYM8+OaHmAWTtrSHw0NRNU7jdDfJSF1l30q
Jpq6zDKJkMdFb1rzKf65GImZbUFd7fWrpuemHNEukyMlaDxbIr0ZymXof3vzYIcC
AwEAAQ==
-----END PUBLIC KEY-----`;

async function publicKey(
  algorithm: RsaHashedKeyGenParams | EcKeyGenParams,
): Promise<{ pem: string; jwk: JsonWebKey }> {
  const pair = await crypto.subtle.generateKey(algorithm, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  return {
    pem: pem(await crypto.subtle.exportKey("spki", pair.publicKey)),
    jwk: await crypto.subtle.exportKey("jwk", pair.publicKey),
  };
}

const rsa = (modulusLength: number): RsaHashedKeyGenParams => ({
  name: "RSASSA-PKCS1-v1_5",
  modulusLength,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
});

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
    const weak = await publicKey(rsa(1024));
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
      [weak.jwk, /RSA keys must be at least 2048 bits, got 1024/],
      [weak.pem, /RSA keys must be at least 2048 bits, got 1024/],
      [
        { kty: "RSA", n: "abc", e: "AQAB" }, // Bun reads 15 bits, Deno nothing
        /RSA keys must be at least 2048 bits, got 15|not a valid RSA public key/,
      ],
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
      [ED448, /unsupported key in PEM/],
      [SECP256K1, /unsupported key in PEM/],
      [X25519, /unsupported key in PEM/],
      [RSA_PSS_OID, /unsupported key in PEM/],
      [pem(new Uint8Array(40)), /unsupported key in PEM/], // not DER
      [X25519.replace("zS0=", ""), /unsupported key in PEM/], // truncated DER
      [42, /expected a JWK object or a PEM string/],
      [[keys.ES256.pem, null], /publicKey\[1\]: expected a JWK object/],
    ];
    for (const [input, pattern] of cases) {
      assert.throws(() => parse(input), pattern, String(pattern));
    }
  });
});

describe("key type and size from node:crypto", () => {
  it("reads RSA sizes and every EC curve from PEM and JWK", async () => {
    const [rsa3072, p384, p521] = await Promise.all([
      publicKey(rsa(3072)),
      publicKey({ name: "ECDSA", namedCurve: "P-384" }),
      publicKey({ name: "ECDSA", namedCurve: "P-521" }),
    ]);
    assert.deepEqual(pick(parse(rsa3072.pem)[0]), { kty: "RSA", bits: 3072 });
    assert.equal(parse(rsa3072.jwk)[0].kty, "RSA");
    for (const [key, crv] of [[p384, "P-384"], [p521, "P-521"]] as const) {
      assert.deepEqual(pick(parse(key.pem)[0]), { kty: "EC", crv });
      const jwk = { ...key.jwk, alg: undefined }; // Deno exports alg, Bun not
      assert.deepEqual(pick(parse(jwk)[0]), { kty: "EC", crv });
    }
    const [p384key] = parse(p384.pem);
    assert.deepEqual(defaultAlgorithms(p384key), ["ES384"]);
    await p384key.import("ES384");
  });

  it("refuses a key whose curve does not fit its alg", async () => {
    const p384 = await publicKey({ name: "ECDSA", namedCurve: "P-384" });
    assert.throws(
      () => parse({ ...p384.jwk, alg: "ES256" }),
      /alg "ES256" does not fit a EC key/,
    );
    assert.throws(
      () => createJwtVerifier({ publicKey: p384.pem, algorithms: ["ES256"] }),
      /ES256 fits none of the configured public keys/,
    );
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
