import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { isPermanent, isTemporary, isUnauthorized } from "@cqi/errors";
import type { Clock } from "@cqi/retry";
import {
  createJwtVerifier,
  type JwtVerifierOptions,
  verifyJwt,
} from "./mod.ts";
import { failureOf } from "./failure.ts";
import {
  type Alg,
  AUDIENCE,
  b64url,
  claims,
  deadUrl,
  hmacToken,
  ISSUER,
  makeKey,
  makeKeys,
  sign,
  type TestKey,
} from "./testdata/fixtures.ts";

let keys: Record<Alg, TestKey>;
before(async () => {
  keys = await makeKeys();
});

/** The reason verifyJwt refused a token with (the log's view). */
async function reason(
  token: string,
  options: JwtVerifierOptions,
): Promise<string | undefined> {
  const error = await verifyJwt(token, createJwtVerifier(options)).then(
    () => assert.fail("accepted"),
    (e) => e,
  );
  assert.ok(isUnauthorized(error), String(error));
  assert.equal(error.message, "invalid credentials");
  return failureOf(error)?.message;
}

const SECRET = "0123456789abcdef0123456789abcdef"; // 32 bytes

/** A clock stopped at `ms`. */
function fixedClock(ms: number): Clock {
  return { now: () => ms, sleep: () => Promise.resolve() };
}

describe("createJwtVerifier", () => {
  it("derives the allowlist from the keys", () => {
    const of = (options: JwtVerifierOptions) =>
      createJwtVerifier(options).algorithms;
    assert.deepEqual(of({ publicKey: keys.RS256.pem }), ["RS256"]);
    assert.deepEqual(of({ publicKey: keys.ES256.pem }), ["ES256"]);
    assert.deepEqual(of({ publicKey: keys.EdDSA.pem }), ["EdDSA", "Ed25519"]);
    assert.deepEqual(of({ publicKey: { ...keys.RS256.jwk, alg: "PS384" } }), [
      "PS384",
    ]);
    assert.deepEqual(of({ secret: SECRET }), ["HS256"]);
    assert.deepEqual(of({ jwksUrl: "https://idp.test/jwks" }), [
      "RS256",
      "ES256",
      "EdDSA",
      "Ed25519",
    ]);
    assert.deepEqual(
      of({ publicKey: [keys.RS256.pem, keys.ES256.jwk], secret: SECRET }),
      ["RS256", "ES256", "HS256"],
    );
  });

  it("never allows none, and HMAC only with a secret", () => {
    const pk = keys.RS256.pem;
    assert.throws(
      () => createJwtVerifier({ publicKey: pk, algorithms: ["none"] }),
      /"none" is never allowed/,
    );
    assert.throws(
      () => createJwtVerifier({ publicKey: pk, algorithms: ["NONE"] }),
      /"none" is never allowed/,
    );
    assert.throws(
      () => createJwtVerifier({ publicKey: pk, algorithms: ["HS256"] }),
      /HS256 needs a secret; HMAC is never verified with a public key/,
    );
    assert.throws(
      () => createJwtVerifier({ publicKey: pk, algorithms: ["ES256"] }),
      /ES256 fits none of the configured public keys/,
    );
    assert.throws(
      () => createJwtVerifier({ publicKey: pk, algorithms: ["XS256"] }),
      /unsupported "XS256"/,
    );
    assert.throws(
      () => createJwtVerifier({ publicKey: pk, algorithms: [] }),
      /algorithms must be a non-empty array/,
    );
  });

  it("requires secrets as long as the hash", () => {
    assert.throws(
      () => createJwtVerifier({ secret: "short" }),
      /secret must be at least 32 bytes for HS256, got 5/,
    );
    assert.throws(
      () => createJwtVerifier({ secret: SECRET, algorithms: ["HS512"] }),
      /at least 64 bytes for HS512/,
    );
    assert.deepEqual(
      createJwtVerifier({ secret: SECRET.repeat(2), algorithms: ["HS512"] })
        .algorithms,
      ["HS512"],
    );
    assert.throws(
      () => createJwtVerifier({ secret: 42 as unknown as string }),
      /secret must be a string, bytes or a Secret/,
    );
  });

  it("validates the other options", () => {
    const pk = keys.ES256.pem;
    const cases: Array<[JwtVerifierOptions, RegExp]> = [
      [{}, /expected publicKey, jwksUrl or secret/],
      [{ jwksUrl: "not a url" }, /jwksUrl is not a URL/],
      [{ jwksUrl: "file:///etc/jwks" }, /jwksUrl must be http\(s\)/],
      [{ publicKey: pk, issuer: "" }, /issuer must be a non-empty string/],
      [{ publicKey: pk, audience: [] }, /audience must be a non-empty string/],
      [
        { publicKey: pk, clockTolerance: -1 },
        /clockTolerance must be a number of milliseconds >= 0/,
      ],
      [
        { publicKey: pk, maxTokenAge: 0 },
        /maxTokenAge must be a number of milliseconds > 0/,
      ],
      [
        { publicKey: pk, maxTokenLength: 1.5 },
        /maxTokenLength must be an integer >= 1/,
      ],
      [
        { jwksUrl: "http://x/", jwksTimeout: 1.5 },
        /jwksTimeout must be an integer/,
      ],
      [{ jwksUrl: "http://x/", jwksCacheMaxAge: NaN }, /jwksCacheMaxAge/],
      [
        { publicKey: pk, clock: {} as Clock },
        /clock must have a now\(\) method/,
      ],
    ];
    for (const [options, pattern] of cases) {
      assert.throws(() => createJwtVerifier(options), pattern);
    }
    assert.throws(
      () => createJwtVerifier(null as unknown as JwtVerifierOptions),
      /createJwtVerifier: options must be an object/,
    );
    createJwtVerifier({
      jwksUrl: new URL("https://x/"),
      jwksCacheMaxAge: Infinity,
    });
  });

  it("refuses a verifier it did not make", async () => {
    await assert.rejects(
      verifyJwt("a.b.c", { algorithms: ["ES256"] }),
      /verifier must come from createJwtVerifier/,
    );
  });
});

describe("verifyJwt", () => {
  it("returns the caller with claims and scopes", async () => {
    const token = await sign(keys.ES256, {
      sub: "u-9",
      scope: "a  b",
      scp: ["c", 3, "a"],
      tenant: "acme",
    });
    const auth = await verifyJwt(
      token,
      createJwtVerifier({
        publicKey: keys.ES256.pem,
        issuer: ISSUER,
        audience: [AUDIENCE, "x"],
      }),
    );
    assert.equal(auth.authType, "jwt");
    assert.equal(auth.userId, "u-9");
    assert.deepEqual(auth.scopes, ["a", "b", "c"]);
    assert.equal(auth.claims.tenant, "acme");
    assert.ok(Object.isFrozen(auth) && Object.isFrozen(auth.claims));
  });

  it("accepts a token without sub, and refuses a non-string sub", async () => {
    const options = { publicKey: keys.ES256.pem };
    const auth = await verifyJwt(
      await sign(keys.ES256, { sub: undefined }),
      createJwtVerifier(options),
    );
    assert.equal(auth.userId, undefined);
    assert.equal(auth.serviceId, undefined);
    assert.equal(
      await reason(await sign(keys.ES256, { sub: 7 }), options),
      "invalid sub claim",
    );
    const service = await verifyJwt(
      await sign(keys.ES256, { sub: "service:" }),
      createJwtVerifier(options),
    );
    assert.equal(service.userId, "service:");
  });

  it("honours the clock tolerance at its edges (injected clock)", async () => {
    const exp = 2_000_000_000;
    const token = await sign(keys.ES256, {
      iat: exp - 600,
      exp,
      nbf: exp - 300,
    });
    const at = (seconds: number, tolerance = 30_000) =>
      createJwtVerifier({
        publicKey: keys.ES256.pem,
        clockTolerance: tolerance,
        clock: fixedClock(seconds * 1000),
      });
    assert.equal((await verifyJwt(token, at(exp + 29))).userId, "u-1");
    assert.equal(
      await reason(token, {
        publicKey: keys.ES256.pem,
        clock: fixedClock((exp + 31) * 1000),
      }),
      "token expired",
    );
    assert.equal((await verifyJwt(token, at(exp - 329))).userId, "u-1");
    assert.equal(
      await reason(token, {
        publicKey: keys.ES256.pem,
        clock: fixedClock((exp - 331) * 1000),
      }),
      "not yet valid",
    );
    assert.equal(
      await reason(token, {
        publicKey: keys.ES256.pem,
        clockTolerance: 0,
        clock: fixedClock((exp - 599) * 1000),
      }),
      "not yet valid",
    );
    await assert.rejects(verifyJwt(token, at(exp, 0)));
    assert.equal((await verifyJwt(token, at(exp - 1, 0))).userId, "u-1");
  });

  it("refuses iat in the future beyond the tolerance", async () => {
    const t = 2_000_000_000;
    const token = await sign(keys.ES256, { iat: t + 60, exp: t + 600 });
    const clock = (s: number) => fixedClock(s * 1000);
    assert.equal(
      await reason(token, { publicKey: keys.ES256.pem, clock: clock(t) }),
      "issued in the future",
    );
    await verifyJwt(
      token,
      createJwtVerifier({ publicKey: keys.ES256.pem, clock: clock(t + 31) }),
    );
  });

  it("enforces maxTokenAge", async () => {
    const t = 2_000_000_000;
    const token = await sign(keys.ES256, { iat: t - 3600, exp: t + 600 });
    const options = {
      publicKey: keys.ES256.pem,
      maxTokenAge: 60_000,
      clock: fixedClock(t * 1000),
    };
    assert.equal(await reason(token, options), "token too old");
    assert.equal(
      await reason(
        await sign(keys.ES256, { iat: undefined, exp: t + 600 }),
        options,
      ),
      "missing iat claim",
    );
  });

  it("names the reason of each refusal, never in the message", async () => {
    const pk = {
      publicKey: keys.ES256.pem,
      issuer: ISSUER,
      audience: AUDIENCE,
    };
    assert.equal(await reason("", pk), "empty token");
    assert.equal(await reason("a.b", pk), "malformed token");
    assert.equal(await reason("x".repeat(9000), pk), "token too long");
    assert.equal(
      await reason(await sign(keys.ES256, { exp: "soon" }), pk),
      "invalid exp claim",
    );
    const crit = await hmacToken(
      { alg: "HS256", crit: ["x"], x: 1 },
      claims(),
      new TextEncoder().encode(SECRET),
    );
    assert.equal(await reason(crit, { secret: SECRET }), "unsupported token");
    assert.equal(
      await reason(await sign(keys.ES256, {}, { kid: 7 }), pk),
      "malformed kid",
    );
  });

  it("selects static keys by alg and kid", async () => {
    const second = await makeKey("ES256", "ES256-2");
    const both = { publicKey: [keys.ES256.jwk, second.jwk] };
    assert.equal(
      (await verifyJwt(await sign(second), createJwtVerifier(both))).userId,
      "u-1",
    );
    // Two keys of one type without kids: a token without kid is ambiguous.
    const bare = { publicKey: [keys.ES256.pem, second.pem] };
    assert.equal(
      await reason(await sign(second, {}, { kid: undefined }), bare),
      "ambiguous key",
    );
    // A key without kid serves tokens with any kid; a kid match wins.
    const mixed = { publicKey: [keys.ES256.pem, second.jwk] };
    await verifyJwt(await sign(second), createJwtVerifier(mixed));
    await verifyJwt(
      await sign(keys.ES256, {}, { kid: "whatever" }),
      createJwtVerifier(mixed),
    );
    // Kids that differ: unknown key.
    assert.equal(
      await reason(await sign(keys.ES256, {}, { kid: "nope" }), {
        publicKey: second.jwk,
      }),
      "unknown key",
    );
    // An alg the key cannot serve, though allowed for another key.
    assert.equal(
      await reason(await sign(keys.RS256), {
        publicKey: [keys.ES256.jwk, { ...keys.RS256.jwk, kid: "r" }],
        algorithms: ["ES256", "RS256"],
      }),
      "unknown key",
    );
  });

  it("verifies PS256 with an RSA key when allowed", async () => {
    const { privateKey, publicKey } = await import("jose").then((j) =>
      j.generateKeyPair("PS256")
    );
    const pem = await import("jose").then((j) => j.exportSPKI(publicKey));
    const token = await new SignJWT({}).setProtectedHeader({ alg: "PS256" })
      .setExpirationTime("1m").sign(privateKey);
    assert.equal(
      await reason(token, { publicKey: pem }),
      "algorithm not allowed",
    );
    await verifyJwt(
      token,
      createJwtVerifier({ publicKey: pem, algorithms: ["PS256"] }),
    );
  });

  it("reports a JWKS outage as temporary with the cause kept for logs", async () => {
    const error = await verifyJwt(
      await sign(keys.ES256),
      createJwtVerifier({ jwksUrl: await deadUrl() }),
    ).catch((e) => e);
    assert.ok(isTemporary(error));
    assert.equal(error.message, "authentication temporarily unavailable");
    assert.equal(failureOf(error)?.message, "jwks unavailable");
    assert.ok(failureOf(error)?.cause !== undefined);
  });

  it("reports a key that cannot be imported as permanent", async () => {
    // Valid JWK shape, 31-byte Ed25519 key: import fails at first use.
    const broken = { ...keys.EdDSA.jwk, x: b64url(new Uint8Array(31)) };
    const error = await verifyJwt(
      await sign(keys.EdDSA),
      createJwtVerifier({ publicKey: broken }),
    ).catch((e) => e);
    assert.ok(isPermanent(error), String(error));
  });

  it("verifies HS256 with a Uint8Array secret and a Secret-like", async () => {
    const bytes = new TextEncoder().encode(SECRET);
    const token = await new SignJWT({ sub: "service:cron" })
      .setProtectedHeader({ alg: "HS256" }).setExpirationTime("1m").sign(bytes);
    const a = await verifyJwt(token, createJwtVerifier({ secret: bytes }));
    const b = await verifyJwt(
      token,
      createJwtVerifier({ secret: { reveal: () => SECRET } }),
    );
    assert.equal(a.serviceId, "cron");
    assert.equal(b.serviceId, "cron");
    assert.equal(
      await reason(token, { secret: SECRET.toUpperCase() }),
      "bad signature",
    );
  });
});
