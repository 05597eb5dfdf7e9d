// Fuzzing the credential parsers (issue 20): the `Authorization` header and
// the extra API-key header through the `apiKey` middleware, and JWTs through
// the `jwt` middleware: mangled schemes and token68s, random and hostile
// JOSE headers (alg, kid, crit, b64), claims of every JSON type and size,
// segments that are not base64url or not JSON, and tokens correctly signed
// with the HMAC secret so the claim checks are reached. The answer is the
// handler's 200 for a valid credential, else a 401 with a JSON `code` (a
// typed `unauthorized` CqiError); never a throw, never a 5xx.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { applyMiddleware } from "@cqi/http";
import { apiKey, getAuthContext, jwt, type PublicJwk } from "@cqi/auth";
import {
  anyChar,
  assertClientError,
  headerChar,
  headerValue,
  hostileString,
  latin1,
  mutated,
  RUNS,
  TIMEOUT,
} from "./_hostile.ts";

const KEY = "k-1234567890-abcdef";
const SECRET = "s".repeat(32) +
  "-fuzzing-secret-for-hs512-0123456789abcdef-xyz";
const ISSUER = "https://issuer.example";
const AUDIENCE = "orders";

const ok = () => Response.json(getAuthContext());

const b64url = (s: string | Uint8Array) =>
  (typeof s === "string" ? Buffer.from(s, "utf8") : Buffer.from(s))
    .toString("base64url");

const HASHES = new Map([
  ["HS256", "sha256"],
  ["HS384", "sha384"],
  ["HS512", "sha512"],
]);

describe("fuzz: credentials", () => {
  it(
    `apiKey: any Authorization and x-api-key header is a 200 or a typed 401 (${RUNS} cases)`,
    {
      timeout: TIMEOUT,
    },
    async () => {
      const handler = applyMiddleware(
        ok,
        apiKey({ keys: [{ id: "k1", key: KEY }], header: "x-api-key" }),
      );
      const authorization = headerValue(
        `Bearer ${KEY}`,
        `bearer  ${KEY}`,
        `Basic ${b64url("a:b")}`,
        "Bearer",
        `Bearer ${KEY}, Bearer ${KEY}`,
        `Bearer "${KEY}"`,
        `Bearer ${"A".repeat(5000)}`,
      );
      let admitted = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.option(authorization, { nil: undefined }),
          fc.option(headerValue(KEY, ` ${KEY}`, ""), { nil: undefined }),
          async (auth, extra) => {
            const headers = new Headers();
            if (auth !== undefined) headers.set("authorization", auth);
            if (extra !== undefined) headers.set("x-api-key", extra);
            const res = await handler(new Request("http://h/x", { headers }));
            if (res.status === 200) {
              admitted++;
              const body = await res.json();
              assert.equal(body.keyId, "k1");
              return;
            }
            assert.equal(await assertClientError(res, [401]), "UNAUTHORIZED");
          },
        ),
        { numRuns: RUNS },
      );
      assert.ok(admitted > 0, "no generated request was admitted");
    },
  );

  it(`jwt: any token is a 200 or a typed 401 (${RUNS} cases)`, {
    timeout: TIMEOUT,
  }, async () => {
    const pair = await crypto.subtle.generateKey(
      { name: "ECDSA", namedCurve: "P-256" },
      true,
      ["sign", "verify"],
    ) as CryptoKeyPair;
    const publicJwk = {
      ...await crypto.subtle.exportKey("jwk", pair.publicKey),
      kid: "ec-1",
      alg: "ES256",
    } as PublicJwk;
    const handler = applyMiddleware(
      ok,
      jwt({
        secret: SECRET,
        publicKey: publicJwk,
        algorithms: ["HS256", "HS512", "ES256"],
        issuer: ISSUER,
        audience: [AUDIENCE, "other"],
      }),
    );
    const now = Math.floor(Date.now() / 1000);
    const number = fc.oneof(
      fc.integer({ min: now - 100, max: now + 3600 }),
      fc.integer(),
      fc.double(),
      fc.constantFrom(
        0,
        -1,
        1e308,
        -1e308,
        Number.MAX_SAFE_INTEGER,
        2 ** 64,
        now + 0.5,
      ),
    );
    const json = fc.jsonValue({ maxDepth: 2 });
    const claim = (samples: string[]) =>
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...samples) },
        { weight: 1, arbitrary: hostileString(...samples) },
        { weight: 1, arbitrary: json },
        {
          weight: 1,
          arbitrary: fc.array(fc.oneof(fc.constantFrom(...samples), json), {
            maxLength: 3,
          }),
        },
      );
    const anyClaims = fc.record({
      exp: fc.oneof({ weight: 4, arbitrary: number }, json),
      nbf: fc.oneof(number, json),
      iat: fc.oneof(number, json),
      iss: claim([ISSUER]),
      aud: claim([AUDIENCE, "other"]),
      sub: claim(["user-1", "service:billing", "service:", ""]),
      scope: claim(["a b  c", "orders:read"]),
      scp: claim(["x"]),
      jti: json,
    }, { requiredKeys: [] });
    // Claims that pass every check, so signed tokens reach the caller.
    const goodClaims = fc.record({
      exp: fc.integer({ min: now + 60, max: now + 3600 }),
      iss: fc.constant(ISSUER),
      aud: fc.constantFrom(AUDIENCE, [AUDIENCE, "x"]),
      sub: fc.constantFrom("user-1", "service:billing", "service:"),
      scope: fc.constantFrom("a b  c", ""),
    });
    const claims = fc.oneof(goodClaims, anyClaims);
    const header = fc.record({
      alg: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom("HS256", "HS512", "ES256") },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            "HS384",
            "RS256",
            "EdDSA",
            "none",
            "None",
            "",
          ),
        },
        { weight: 1, arbitrary: hostileString("HS256") },
        { weight: 1, arbitrary: json },
      ),
      kid: fc.oneof(fc.constantFrom("ec-1", "k1", ""), json),
      typ: fc.oneof(fc.constant("JWT"), json),
      crit: fc.oneof(
        fc.constant(["b64"]),
        fc.constant(["exp"]),
        fc.constant([]),
        json,
      ),
      b64: fc.oneof(fc.boolean(), json),
      jwk: fc.oneof(fc.constant(publicJwk), json),
      jku: fc.constantFrom("http://127.0.0.1:1/jwks", "x"),
      x5c: json,
      zip: fc.constantFrom("DEF", "x"),
    }, { requiredKeys: [] });
    // A segment's text: usually JSON of the generated object, or any text.
    const segment = (object: fc.Arbitrary<unknown>) =>
      fc.oneof(
        { weight: 6, arbitrary: object.map((o) => JSON.stringify(o)) },
        { weight: 1, arbitrary: json.map((o) => JSON.stringify(o)) },
        {
          weight: 1,
          arbitrary: mutated(
            object.map((o) => JSON.stringify(o)),
            anyChar,
            2,
          ),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            "",
            "null",
            "[]",
            '{"exp":1e999}',
            '{"alg":"HS256","alg":"none"}',
            "\ufeff{}",
            '{"exp":' + "9".repeat(400) + "}",
            `{"__proto__":{"sub":1},"exp":1e10,"iss":"${ISSUER}","aud":"orders"}`,
          ),
        },
      );
    const signature = fc.oneof(
      { weight: 6, arbitrary: fc.constant("sign") },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 96 }).map(b64url) },
      { weight: 1, arbitrary: fc.constant("") },
    );
    const base64urlChar = fc.oneof(
      fc.constantFrom(..."AZaz09-_=.+/ "),
      headerChar,
    );
    const token = fc.tuple(
      segment(header),
      segment(claims),
      signature,
      fc.option(fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), {
        nil: undefined,
      }),
      fc.option(
        fc.string({ unit: base64urlChar, minLength: 1, maxLength: 4 }),
        {
          nil: undefined,
        },
      ),
    ).map(([h, p, sig, flips, junk]) => {
      const signingInput = `${b64url(h)}.${b64url(p)}`;
      let alg: unknown;
      try {
        alg = JSON.parse(h)?.alg;
      } catch {
        alg = undefined;
      }
      const hash = typeof alg === "string" ? HASHES.get(alg) : undefined;
      let s = sig;
      if (sig === "sign") {
        s = hash === undefined
          ? b64url(crypto.getRandomValues(new Uint8Array(64)))
          : createHmac(hash, SECRET).update(signingInput).digest("base64url");
      }
      let t = `${signingInput}.${s}`;
      // Mangle: flip characters, then maybe insert junk.
      for (const at of flips ?? []) {
        const i = at % t.length;
        t = t.slice(0, i) + String.fromCharCode(t.charCodeAt(i) ^ 1) +
          t.slice(i + 1);
      }
      if (junk !== undefined) {
        const i = (flips?.[0] ?? 0) % (t.length + 1);
        t = t.slice(0, i) + junk + t.slice(i);
      }
      return t;
    });
    const authorization = fc.oneof(
      { weight: 8, arbitrary: token.map((t) => `Bearer ${t}`) },
      {
        weight: 1,
        arbitrary: fc.tuple(
          fc.constantFrom(
            "bearer ",
            "Bearer  ",
            "BEARER\t",
            "Bearer",
            "Basic ",
          ),
          token,
        ).map(([scheme, t]) => scheme + t),
      },
      { weight: 1, arbitrary: headerValue("Bearer a.b.c", "Bearer ..") },
    );
    let admitted = 0;
    await fc.assert(
      fc.asyncProperty(authorization, async (auth) => {
        const headers = new Headers({ authorization: latin1(auth) });
        const res = await handler(new Request("http://h/x", { headers }));
        if (res.status === 200) {
          admitted++;
          const body = await res.json();
          assert.equal(body.authType, "jwt");
          return;
        }
        assert.equal(await assertClientError(res, [401]), "UNAUTHORIZED");
      }),
      { numRuns: RUNS },
    );
    assert.ok(admitted > 0, "no generated token was admitted");
  });
});
