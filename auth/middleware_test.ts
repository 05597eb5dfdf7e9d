// The attack suite of issue 7 and the happy paths, on real servers: every
// refusal answers the same generic body, the reason reaches only the access
// log fields, and neither the token nor the key appears in either.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { inspect } from "node:util";
import { anyOf, apiKey, hashApiKey, jwt, type JwtOptions } from "./mod.ts";
import { findDigest, seam } from "./api_key.ts";
import {
  type Alg,
  AUDIENCE,
  b64url,
  bearer,
  claims,
  deadUrl,
  hmacToken,
  ISSUER,
  type JwksServer,
  jwksServer,
  makeKey,
  makeKeys,
  now,
  type Reply,
  sign,
  startApp,
  type TestKey,
} from "./testdata/fixtures.ts";

const INVALID = { error: "invalid credentials", code: "UNAUTHORIZED" };
const MISSING = { error: "authentication required", code: "UNAUTHORIZED" };
const INVALID_TOKEN = 'Bearer error="invalid_token"';

/** A refusal: 401, the generic body and challenge, the reason in the log only. */
function assertRefused(reply: Reply, reason: string, secret?: string) {
  assert.equal(reply.status, 401, reply.text);
  assert.deepEqual(reply.json, INVALID);
  assert.equal(reply.headers.get("www-authenticate"), INVALID_TOKEN);
  assert.equal(reply.log.auth_error, reason);
  assert.equal(reply.log.user_id, undefined);
  if (secret !== undefined) {
    assert.ok(!reply.text.includes(secret), "credential echoed to the client");
    assert.ok(
      !JSON.stringify(reply.log).includes(secret),
      "credential in the log fields",
    );
  }
}

let keys: Record<Alg, TestKey>;
let jwks: JwksServer;

before(async () => {
  keys = await makeKeys();
  jwks = jwksServer([keys.RS256.jwk, keys.ES256.jwk, keys.EdDSA.jwk]);
});
after(async () => {
  await jwks[Symbol.asyncDispose]();
});

const viaJwks = (extra: Partial<JwtOptions> = {}) =>
  jwt({ jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE, ...extra });

describe("jwt on a real server: happy paths", () => {
  for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
    it(`accepts ${alg} from the JWKS and puts the caller in context and log`, async () => {
      await using app = startApp(viaJwks());
      const reply = await app.get(
        "/api",
        bearer(await sign(keys[alg], { sub: "u-7", scope: "a b" })),
      );
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json.caller.authType, "jwt");
      assert.equal(reply.json.caller.userId, "u-7");
      assert.deepEqual(reply.json.caller.scopes, ["a", "b"]);
      assert.equal(reply.json.caller.claims.iss, ISSUER);
      assert.deepEqual(reply.log, { auth_type: "jwt", user_id: "u-7" });
    });

    it(`accepts ${alg} from a PEM and from a JWK`, async () => {
      for (const publicKey of [keys[alg].pem, keys[alg].jwk]) {
        await using app = startApp(jwt({ publicKey, issuer: ISSUER }));
        const reply = await app.get("/", bearer(await sign(keys[alg])));
        assert.equal(reply.status, 200, reply.text);
        assert.equal(reply.json.caller.userId, "u-1");
      }
    });
  }

  it("maps sub service:<id> to serviceId", async () => {
    await using app = startApp(viaJwks());
    const reply = await app.get(
      "/",
      bearer(await sign(keys.ES256, { sub: "service:billing" })),
    );
    assert.equal(reply.json.caller.serviceId, "billing");
    assert.equal(reply.json.caller.userId, undefined);
    assert.deepEqual(reply.log, { auth_type: "jwt", service_id: "billing" });
  });

  it("accepts `bearer` in any case and several spaces", async () => {
    await using app = startApp(viaJwks());
    const token = await sign(keys.ES256);
    const reply = await app.get("/", { authorization: `bEaReR   ${token}` });
    assert.equal(reply.status, 200);
  });

  it("leaves excluded paths open and marks nothing", async () => {
    await using app = startApp(viaJwks({ exclude: ["/health/*", "/metrics"] }));
    for (const path of ["/health", "/health/live", "/metrics?x=1"]) {
      const reply = await app.get(path);
      assert.equal(reply.status, 200, path);
      assert.equal(reply.json.caller, null);
    }
    for (
      const path of ["/healthz", "/metrics/x", "/api", "/health%2f..%2fapi"]
    ) {
      assert.equal((await app.get(path)).status, 401, path);
    }
  });
});

describe("jwt on a real server: attacks", () => {
  it("refuses alg none", async () => {
    await using app = startApp(viaJwks());
    const token = `${b64url('{"alg":"none","typ":"JWT"}')}.${
      b64url(JSON.stringify(claims()))
    }.`;
    assertRefused(await app.get("/", bearer(token)), "jwt: malformed token");
    // …and with a dummy signature, so it passes the shape check.
    const signed = `${token}c2ln`;
    assertRefused(
      await app.get("/", bearer(signed)),
      "jwt: algorithm not allowed",
      signed,
    );
  });

  it("refuses HS256 signed with the public key as HMAC secret (PEM and JWKS)", async () => {
    for (
      const options of [
        { publicKey: keys.RS256.pem },
        { jwksUrl: jwks.url },
      ] as JwtOptions[]
    ) {
      await using app = startApp(jwt(options));
      for (
        const secret of [
          keys.RS256.pem,
          keys.RS256.pem.trim(),
          JSON.stringify(keys.RS256.jwk),
        ]
      ) {
        const forged = await hmacToken(
          { alg: "HS256", typ: "JWT", kid: keys.RS256.kid },
          claims(),
          new TextEncoder().encode(secret),
        );
        assertRefused(
          await app.get("/", bearer(forged)),
          "jwt: algorithm not allowed",
          forged,
        );
      }
    }
  });

  it("refuses key confusion even when an HMAC secret is configured", async () => {
    await using app = startApp(
      jwt({
        publicKey: keys.RS256.pem,
        secret: "a shared secret of at least 32 bytes!",
      }),
    );
    const forged = await hmacToken(
      { alg: "HS256" },
      claims(),
      new TextEncoder().encode(keys.RS256.pem),
    );
    assertRefused(await app.get("/", bearer(forged)), "jwt: bad signature");
  });

  it("refuses an algorithm outside the allowlist", async () => {
    await using app = startApp(viaJwks({ algorithms: ["ES256"] }));
    const token = await sign(keys.RS256);
    assertRefused(
      await app.get("/", bearer(token)),
      "jwt: algorithm not allowed",
      token,
    );
    assert.equal(
      (await app.get("/", bearer(await sign(keys.ES256)))).status,
      200,
    );
  });

  it("refuses a tampered payload", async () => {
    await using app = startApp(viaJwks());
    const [h, , s] = (await sign(keys.ES256, { sub: "u-1" })).split(".");
    const tampered = `${h}.${
      b64url(JSON.stringify(claims({ sub: "admin" })))
    }.${s}`;
    assertRefused(
      await app.get("/", bearer(tampered)),
      "jwt: bad signature",
      tampered,
    );
  });

  it("refuses a tampered signature", async () => {
    await using app = startApp(viaJwks());
    for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
      const [h, p, s] = (await sign(keys[alg])).split(".");
      const flipped = s[5] === "A" ? "B" : "A";
      const tampered = `${h}.${p}.${s.slice(0, 5)}${flipped}${s.slice(6)}`;
      assertRefused(await app.get("/", bearer(tampered)), "jwt: bad signature");
    }
  });

  it("refuses a token signed by another key with the same kid", async () => {
    await using app = startApp(viaJwks());
    const impostor = await makeKey("ES256", keys.ES256.kid);
    assertRefused(
      await app.get("/", bearer(await sign(impostor))),
      "jwt: bad signature",
    );
  });

  it("refuses an expired token", async () => {
    await using app = startApp(viaJwks());
    const t = now();
    const token = await sign(keys.ES256, { iat: t - 7200, exp: t - 3600 });
    assertRefused(
      await app.get("/", bearer(token)),
      "jwt: token expired",
      token,
    );
  });

  it("refuses nbf in the future", async () => {
    await using app = startApp(viaJwks());
    const token = await sign(keys.ES256, { nbf: now() + 3600 });
    assertRefused(await app.get("/", bearer(token)), "jwt: not yet valid");
  });

  it("refuses iat in the future", async () => {
    await using app = startApp(viaJwks());
    const token = await sign(keys.ES256, { iat: now() + 3600 });
    assertRefused(
      await app.get("/", bearer(token)),
      "jwt: issued in the future",
    );
  });

  it("refuses a wrong issuer", async () => {
    await using app = startApp(viaJwks());
    const token = await sign(keys.ES256, { iss: "https://evil.test/" });
    assertRefused(await app.get("/", bearer(token)), "jwt: wrong issuer");
    const none = await sign(keys.ES256, { iss: undefined });
    assertRefused(await app.get("/", bearer(none)), "jwt: missing iss claim");
  });

  it("refuses a wrong audience", async () => {
    await using app = startApp(viaJwks());
    for (const aud of ["payments", ["payments", "ledger"]]) {
      const token = await sign(keys.ES256, { aud });
      assertRefused(await app.get("/", bearer(token)), "jwt: wrong audience");
    }
    const none = await sign(keys.ES256, { aud: undefined });
    assertRefused(await app.get("/", bearer(none)), "jwt: missing aud claim");
  });

  it("refuses a token without exp", async () => {
    await using app = startApp(viaJwks());
    const token = await sign(keys.ES256, { exp: undefined });
    assertRefused(await app.get("/", bearer(token)), "jwt: missing exp claim");
  });

  it("refuses a kid that is not in the JWKS, refetching at most once per cooldown", async () => {
    await using server = jwksServer([keys.ES256.jwk]);
    await using app = startApp(
      jwt({ jwksUrl: server.url, jwksCooldown: 60_000 }),
    );
    assert.equal(
      (await app.get("/", bearer(await sign(keys.ES256)))).status,
      200,
    );
    const rogue = await makeKey("ES256", "rogue");
    for (let i = 0; i < 5; i++) {
      assertRefused(
        await app.get("/", bearer(await sign(rogue))),
        "jwt: unknown key",
      );
    }
    // One fetch on first use; the unknown kid came within the cooldown.
    assert.equal(server.requests, 1);
  });

  it("picks up a rotated key from the JWKS after the cooldown", async () => {
    await using server = jwksServer([keys.ES256.jwk]);
    await using app = startApp(jwt({ jwksUrl: server.url, jwksCooldown: 0 }));
    const next = await makeKey("ES256", "next");
    assertRefused(
      await app.get("/", bearer(await sign(next))),
      "jwt: unknown key",
    );
    server.keys = [keys.ES256.jwk, next.jwk];
    assert.equal((await app.get("/", bearer(await sign(next)))).status, 200);
  });

  it("answers 503 UNAVAILABLE, not 500, when the JWKS is down — and recovers", async () => {
    await using app = startApp(jwt({ jwksUrl: await deadUrl() }));
    const token = await sign(keys.ES256);
    for (let i = 0; i < 3; i++) {
      const reply = await app.get("/", bearer(token));
      assert.equal(reply.status, 503);
      assert.deepEqual(reply.json, {
        error: "authentication temporarily unavailable",
        code: "UNAVAILABLE",
      });
      assert.equal(reply.headers.get("www-authenticate"), null);
      assert.equal(reply.log.auth_error, "jwt: jwks unavailable");
    }
  });

  for (const mode of ["error", "garbage"] as const) {
    it(`answers 503 when the JWKS answers ${mode}, and recovers when it is back`, async () => {
      await using server = jwksServer([keys.ES256.jwk]);
      server.mode = mode;
      await using app = startApp(jwt({ jwksUrl: server.url }));
      const token = await sign(keys.ES256);
      assert.equal((await app.get("/", bearer(token))).status, 503);
      server.mode = "ok";
      assert.equal((await app.get("/", bearer(token))).status, 200);
    });
  }

  it("answers 503 when the JWKS hangs past jwksTimeout", async () => {
    await using server = jwksServer([keys.ES256.jwk]);
    server.mode = "hang";
    await using app = startApp(jwt({ jwksUrl: server.url, jwksTimeout: 200 }));
    const reply = await app.get("/", bearer(await sign(keys.ES256)));
    assert.equal(reply.status, 503);
    assert.equal(reply.log.auth_error, "jwt: jwks unavailable");
    server.release();
  });

  it("refuses malformed base64 and JSON", async () => {
    await using app = startApp(viaJwks());
    const good = await sign(keys.ES256);
    const [h, p, s] = good.split(".");
    const cases: Array<[string, string]> = [
      // Not token68: refused while reading the header.
      [`${h}.${p}.${s}!`, "jwt: malformed bearer credentials"],
      [`${h}==.${p}.${s}`, "jwt: malformed bearer credentials"],
      [`${h}.${p}.${s}=`, "jwt: malformed token"], // padding
      [`${h}.${p}.${s}~`, "jwt: malformed token"], // token68 but not base64url
      [`${h}.${p}`, "jwt: malformed token"], // two parts
      [`${h}.${p}.${s}.${s}`, "jwt: malformed token"], // four parts
      [`${"A".repeat(5)}.${p}.${s}`, "jwt: malformed token"], // 5 base64 chars
      // The signature is checked before the payload is decoded.
      [`${h}.${"A".repeat(5)}.${s}`, "jwt: bad signature"],
      [`${b64url("{not json")}.${p}.${s}`, "jwt: malformed token"],
      [`${b64url('"a string"')}.${p}.${s}`, "jwt: malformed token"],
      [`${h}.${b64url("{not json")}.${s}`, "jwt: bad signature"],
    ];
    for (const [token, reason] of cases) {
      assertRefused(await app.get("/", bearer(token)), reason);
    }
  });

  it("refuses a payload that is not JSON even when correctly signed", async () => {
    const secret = "a shared secret of at least 32 bytes!";
    await using app = startApp(jwt({ secret }));
    const header = b64url('{"alg":"HS256"}');
    for (const payload of ["{not json", "[1,2]", "42"]) {
      const input = `${header}.${b64url(payload)}`;
      const key = await crypto.subtle.importKey(
        "raw",
        new TextEncoder().encode(secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      );
      const mac = new Uint8Array(
        await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)),
      );
      assertRefused(
        await app.get("/", bearer(`${input}.${b64url(mac)}`)),
        "jwt: malformed token",
      );
    }
  });

  it("refuses a 100 KB token: the runtime rejects the header, the middleware the token", async () => {
    await using app = startApp(viaJwks());
    const huge = `${"a".repeat(50_000)}.${"b".repeat(50_000)}.c`;
    const reply = await app.get("/", bearer(huge));
    // Deno answers 400 and Bun 431 before the handler runs; either way no
    // 2xx, no 5xx, and the server lives on.
    assert.ok(reply.status === 400 || reply.status === 431, `${reply.status}`);
    assert.equal(
      (await app.get("/", bearer(await sign(keys.ES256)))).status,
      200,
    );
    // A token the runtime lets through but over maxTokenLength (8 KB).
    const long = `${"a".repeat(6_000)}.${"b".repeat(6_000)}.c`;
    assertRefused(await app.get("/", bearer(long)), "jwt: token too long");
  });

  it("refuses an Authorization header with no scheme, the wrong scheme, or two tokens", async () => {
    await using app = startApp(viaJwks());
    const token = await sign(keys.ES256);
    const plain = (headers: HeadersInit, reason: string) =>
      app.get("/", headers).then((reply) => {
        assert.equal(reply.status, 401);
        assert.deepEqual(reply.json, MISSING);
        // RFC 6750 §3.1: no error code when no bearer credential was sent.
        assert.equal(reply.headers.get("www-authenticate"), "Bearer");
        assert.equal(reply.log.auth_error, reason);
      });
    await plain({}, "jwt: missing credentials");
    await plain({ authorization: token }, "jwt: unsupported scheme");
    await plain({ authorization: `Basic ${token}` }, "jwt: unsupported scheme");
    await plain({ authorization: `Token ${token}` }, "jwt: unsupported scheme");
    const malformed = "jwt: malformed bearer credentials";
    assertRefused(await app.get("/", { authorization: "Bearer" }), malformed);
    assertRefused(
      await app.get("/", { authorization: `Bearer ${token} ${token}` }),
      malformed,
    );
    assertRefused(
      await app.get("/", { authorization: `Bearer ${token},Bearer ${token}` }),
      malformed,
    );
    const two = new Headers();
    two.append("authorization", `Bearer ${token}`);
    two.append("authorization", `Bearer ${token}`);
    assertRefused(await app.get("/", two), malformed);
    assertRefused(
      await app.get("/", { authorization: `Bearer\t${token}` }),
      malformed,
    );
  });

  it("gives one message for every invalid token", async () => {
    await using app = startApp(viaJwks());
    const t = now();
    const bodies = new Set<string>();
    for (
      const token of [
        await sign(keys.ES256, { exp: t - 3600, iat: t - 7200 }),
        await sign(keys.ES256, { iss: "x" }),
        await sign(keys.ES256, { aud: "x" }),
        await sign(await makeKey("ES256", "other")),
        "a.b.c",
      ]
    ) {
      const reply = await app.get("/", bearer(token));
      bodies.add(
        `${reply.status} ${reply.text} ${
          reply.headers.get("www-authenticate")
        }`,
      );
    }
    assert.equal(bodies.size, 1, [...bodies].join("\n"));
  });

  it("keeps serving after a burst of garbage", async () => {
    await using app = startApp(viaJwks());
    const garbage = [
      "",
      "Bearer",
      "Bearer .",
      "Bearer ...",
      "Bearer a.b.c",
      "Bearer ===",
      "\u00ff",
    ];
    const replies = await Promise.all(
      garbage.map((g) =>
        app.get("/", g === "" ? {} : { authorization: g }).catch(() =>
          undefined
        )
      ),
    );
    for (const reply of replies) if (reply) assert.equal(reply.status, 401);
    assert.equal(
      (await app.get("/", bearer(await sign(keys.ES256)))).status,
      200,
    );
  });
});

describe("apiKey on a real server", () => {
  const KEY = "k3y-0123456789abcdef-ABCDEF";

  it("accepts a plain key and a hashed key, via Bearer and the extra header", async () => {
    await using app = startApp(
      apiKey({
        keys: [
          { id: "billing", key: KEY, serviceId: "billing", scopes: ["r"] },
          { id: "ops", hash: await hashApiKey("ops-key") },
        ],
        header: "X-API-Key",
      }),
    );
    const a = await app.get("/", bearer(KEY));
    assert.equal(a.status, 200);
    assert.deepEqual(a.json.caller, {
      authType: "api_key",
      keyId: "billing",
      serviceId: "billing",
      scopes: ["r"],
      claims: {},
    });
    assert.deepEqual(a.log, {
      auth_type: "api_key",
      service_id: "billing",
      key_id: "billing",
    });
    assert.ok(!JSON.stringify(a.json).includes(KEY));
    const b = await app.get("/", { "x-api-key": "ops-key" });
    assert.equal(b.status, 200);
    assert.equal(b.json.caller.keyId, "ops");
  });

  it("keeps no presented key and compares every key's digest, a repeat caller's too", async () => {
    const kept: unknown[] = [];
    const compared: boolean[] = [];
    seam.prepared = (state) => kept.push(state);
    seam.compare = (digest, all) => {
      const index = findDigest(digest, all);
      compared.push(index >= 0);
      return index;
    };
    try {
      await using app = startApp(apiKey({ keys: [{ id: "k", key: KEY }] }));
      const wrong = KEY.slice(0, -1) + (KEY.endsWith("x") ? "y" : "x");
      assert.equal(wrong.length, KEY.length);
      assert.equal((await app.get("/", bearer(KEY))).status, 200);
      assert.equal((await app.get("/", bearer(KEY))).status, 200);
      assertRefused(
        await app.get("/", bearer(wrong)),
        "api_key: unknown api key",
        wrong,
      );
      assert.deepEqual(compared, [true, true, false]);
      assert.equal(kept.length, 1);
      const shown = inspect(kept, {
        showHidden: true,
        depth: Infinity,
        maxArrayLength: Infinity,
        maxStringLength: Infinity,
      });
      assert.ok(!shown.includes(KEY), shown);
      assert.ok(!shown.includes(wrong), shown);
    } finally {
      seam.prepared = undefined;
      seam.compare = findDigest;
    }
  });

  it("refuses a key of a different length", async () => {
    await using app = startApp(apiKey({ keys: [{ id: "k", key: KEY }] }));
    for (const key of [KEY.slice(0, -1), `${KEY}x`, "x", KEY.repeat(3)]) {
      assertRefused(
        await app.get("/", bearer(key)),
        "api_key: unknown api key",
        key,
      );
    }
  });

  it("refuses a key with a one-character difference, at every position", async () => {
    await using app = startApp(apiKey({ keys: [{ id: "k", key: KEY }] }));
    for (const i of [0, 1, KEY.length >> 1, KEY.length - 1]) {
      const c = KEY[i] === "a" ? "b" : "a";
      const key = KEY.slice(0, i) + c + KEY.slice(i + 1);
      assertRefused(
        await app.get("/", bearer(key)),
        "api_key: unknown api key",
        key,
      );
    }
  });

  it("refuses an empty key", async () => {
    await using app = startApp(
      apiKey({ keys: [{ id: "k", key: KEY }], header: "x-api-key" }),
    );
    assertRefused(
      await app.get("/", { authorization: "Bearer " }),
      "api_key: malformed bearer credentials",
    );
    assertRefused(
      await app.get("/", { "x-api-key": "" }),
      "api_key: empty api key",
    );
  });

  it("refuses a key in both places, and a key over 4096 characters", async () => {
    await using app = startApp(
      apiKey({ keys: [{ id: "k", key: KEY }], header: "x-api-key" }),
    );
    assertRefused(
      await app.get("/", { ...bearer(KEY) as object, "x-api-key": KEY }),
      "api_key: two credentials",
      KEY,
    );
    assertRefused(
      await app.get("/", { "x-api-key": "k".repeat(5000) }),
      "api_key: api key too long",
    );
  });

  it("answers a missing or non-Bearer credential with a plain challenge", async () => {
    await using app = startApp(apiKey({ keys: [{ id: "k", key: KEY }] }));
    const cases: HeadersInit[] = [{}, {
      authorization: `Basic ${btoa(`u:${KEY}`)}`,
    }];
    for (const headers of cases) {
      const reply = await app.get("/", headers);
      assert.equal(reply.status, 401);
      assert.deepEqual(reply.json, MISSING);
      assert.equal(reply.headers.get("www-authenticate"), "Bearer");
    }
  });
});

describe("anyOf on a real server", () => {
  const KEY = "ops-key-0123456789";

  it("accepts either method and lists both reasons when both refuse", async () => {
    await using app = startApp(
      anyOf(
        apiKey({ keys: [{ id: "ops", key: KEY }], exclude: ["/health/*"] }),
        viaJwks(),
      ),
    );
    assert.equal(
      (await app.get("/", bearer(KEY))).json.caller.authType,
      "api_key",
    );
    const viaToken = await app.get("/", bearer(await sign(keys.EdDSA)));
    assert.equal(viaToken.json.caller.authType, "jwt");
    assert.equal((await app.get("/health/ready")).status, 200);
    assertRefused(
      await app.get("/", bearer("nope")),
      "api_key: unknown api key; jwt: malformed token",
    );
    const missing = await app.get("/");
    assert.equal(missing.headers.get("www-authenticate"), "Bearer");
    assert.equal(
      missing.log.auth_error,
      "api_key: missing credentials; jwt: missing credentials",
    );
  });

  it("answers 503 when the JWKS is down and the API key does not match", async () => {
    await using app = startApp(
      anyOf(
        apiKey({ keys: [{ id: "ops", key: KEY }] }),
        jwt({ jwksUrl: await deadUrl() }),
      ),
    );
    assert.equal((await app.get("/", bearer(KEY))).status, 200);
    const reply = await app.get("/", bearer(await sign(keys.ES256)));
    assert.equal(reply.status, 503);
    assert.equal(
      reply.log.auth_error,
      "api_key: unknown api key; jwt: jwks unavailable",
    );
  });

  it("rejects what is not an auth middleware", () => {
    assert.throws(() => anyOf(), /at least one/);
    assert.throws(
      () => anyOf(apiKey({ keys: [{ id: "a", key: "k" }] }), (r, n) => n(r)),
      /methods\[1\] is not made by apiKey, jwt or anyOf/,
    );
  });

  it("nests", async () => {
    const secret = "a shared secret of at least 32 bytes!";
    await using app = startApp(
      anyOf(
        anyOf(apiKey({ keys: [{ id: "ops", key: KEY }] })),
        jwt({ secret }),
      ),
    );
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("service:cron")
      .setExpirationTime("1m")
      .sign(new TextEncoder().encode(secret));
    assert.equal(
      (await app.get("/", bearer(token))).json.caller.serviceId,
      "cron",
    );
    assert.equal((await app.get("/", bearer(KEY))).json.caller.keyId, "ops");
  });
});

describe("middleware options", () => {
  it("validate", () => {
    assert.throws(
      () => apiKey({ keys: [] }),
      /apiKey: keys must be a non-empty array/,
    );
    assert.throws(
      () => apiKey({ keys: [{ id: "a", key: "k" }], header: "bad header" }),
      /apiKey: header must be a header name/,
    );
    assert.throws(
      () => apiKey({ keys: [{ id: "a", key: "k" }], header: "Authorization" }),
      /Authorization is always read/,
    );
    assert.throws(
      () => apiKey({ keys: [{ id: "a", key: "k" }], exclude: ["health"] }),
      /apiKey: exclude: expected paths starting with "\/"/,
    );
    assert.throws(() => jwt({}), /jwt: expected publicKey, jwksUrl or secret/);
    assert.throws(
      () => jwt({ secret: "x".repeat(32), exclude: ["/a/*/b"] }),
      /jwt: exclude: "\*" is only allowed as a final "\/\*"/,
    );
  });

  it("lets a bug surface instead of answering 401", async () => {
    // A handler error after authentication is not the middleware's business.
    const mw = apiKey({ keys: [{ id: "a", key: "k" }] });
    await assert.rejects(
      Promise.resolve(
        mw(
          new Request("http://x/", { headers: { authorization: "Bearer k" } }),
          () => Promise.reject(new Error("boom")),
        ),
      ),
      /boom/,
    );
  });

  it("refuses a 100 KB token in process", async () => {
    const mw = viaJwks();
    const huge = `${"a".repeat(50_000)}.${"b".repeat(50_000)}.c`;
    const res = await mw(
      new Request("http://x/", { headers: bearer(huge) }),
      () => Promise.resolve(new Response("reached")),
    );
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), INVALID);
  });
});
