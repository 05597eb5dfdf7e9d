import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createJwtVerifier, verifyJwt } from "./mod.ts";
import { failureOf } from "./failure.ts";
import {
  AUDIENCE,
  ISSUER,
  jwksServer,
  makeKey,
  sign,
} from "./testdata/fixtures.ts";

describe("a JWKS with several keys of one type (rotation)", () => {
  it("verifies a token without a kid against each candidate key", async () => {
    const [old, current, stranger] = await Promise.all([
      makeKey("ES256", "old"),
      makeKey("ES256", "new"),
      makeKey("ES256", "stranger"),
    ]);
    const withoutKid = (k: typeof old) => {
      const { kid: _kid, ...jwk } = k.jwk;
      return jwk;
    };
    await using jwks = jwksServer([withoutKid(old), withoutKid(current)]);
    const verifier = createJwtVerifier({
      jwksUrl: jwks.url,
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const token = await sign(current, {}, { kid: undefined });
    const caller = await verifyJwt(token, verifier);
    assert.equal(caller.userId, "u-1");
    const forged = await sign(stranger, {}, { kid: undefined });
    const error = await verifyJwt(forged, verifier).catch((e) => e);
    assert.equal(failureOf(error)?.message, "bad signature");
  });
});
