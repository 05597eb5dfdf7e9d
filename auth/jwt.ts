import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import { CqiError, permanent } from "@cqi/errors";
import type { Clock } from "@cqi/retry";
import type { AuthContext } from "./context.ts";
import { refusal, unavailable } from "./failure.ts";
import {
  ASYMMETRIC,
  defaultAlgorithms,
  fits,
  HMAC,
  JWKS_DEFAULT_ALGORITHMS,
  parsePublicKeys,
  type PublicJwk,
  type StaticKey,
} from "./jwt_keys.ts";

/**
 * Options for {@linkcode createJwtVerifier} and the `jwt` middleware. At
 * least one key source is required: `publicKey`, `jwksUrl` or `secret`.
 * `@cqi/config`'s `JwtConfig` fits as it is.
 *
 * @example Usage
 * ```ts
 * import type { JwtVerifierOptions } from "@cqi/auth";
 *
 * const options: JwtVerifierOptions = {
 *   jwksUrl: "https://auth.example.com/.well-known/jwks.json",
 *   issuer: "https://auth.example.com/",
 *   audience: "orders",
 * };
 * ```
 */
export interface JwtVerifierOptions {
  /**
   * Public key(s): an SPKI PEM (`-----BEGIN PUBLIC KEY-----`), a JWK object
   * or its JSON text (a `{"keys": [...]}` set too), or a list of them.
   */
  publicKey?: string | PublicJwk | ReadonlyArray<string | PublicJwk>;
  /**
   * URL of a JSON Web Key Set, fetched on first use and cached. A token's
   * `kid` missing from the cached set triggers a refetch at most once per
   * `jwksCooldown`.
   */
  jwksUrl?: string | URL;
  /**
   * A shared HMAC secret (at least 32 bytes; 48/64 for HS384/HS512). Only
   * this enables HS* algorithms; tokens signed with it are verified with it
   * and nothing else.
   */
  secret?: string | Uint8Array | { reveal(): string };
  /** Required `iss`: one value or any of a list. Default: not checked. */
  issuer?: string | readonly string[];
  /** Accepted `aud`: one value or any of a list. Default: not checked. */
  audience?: string | readonly string[];
  /**
   * Allowed `alg` values. Default: those of the configured keys — a JWK's
   * `alg`, else by key type (RSA → RS256, EC → ES256/ES384/ES512 by curve,
   * Ed25519 → EdDSA and Ed25519); RS256, ES256, EdDSA and Ed25519 for a JWKS
   * URL; HS256 with a `secret`. Any of `@cqi/config`'s `JWT_ALGORITHMS`;
   * `none` is never allowed.
   */
  algorithms?: readonly string[];
  /** Milliseconds of clock skew allowed for `exp`, `nbf` and `iat`. Default 30 000. */
  clockTolerance?: number;
  /** Refuse tokens whose `iat` is older than this many milliseconds (and require `iat`). */
  maxTokenAge?: number;
  /** Longest token accepted, in characters. Default 8192. */
  maxTokenLength?: number;
  /** Milliseconds a JWKS fetch may take. Default 5000. */
  jwksTimeout?: number;
  /** Minimum milliseconds between refetches for an unknown `kid`. Default 30 000. */
  jwksCooldown?: number;
  /** Milliseconds a fetched JWKS is used before it is fetched again. Default 600 000. */
  jwksCacheMaxAge?: number;
  /** Time source for `exp`/`nbf`/`iat` checks (tests). Default: the system clock. */
  clock?: Clock;
}

/**
 * A prepared JWT configuration for {@linkcode verifyJwt}: parsed keys, the
 * algorithm allowlist and the remote key set with its cache.
 *
 * @example Usage
 * ```ts
 * import { createJwtVerifier } from "@cqi/auth";
 *
 * const verifier = createJwtVerifier({
 *   jwksUrl: "https://auth.example.com/.well-known/jwks.json",
 * });
 * console.log(verifier.algorithms); // ["RS256", "ES256", "EdDSA", "Ed25519"]
 * ```
 */
export interface JwtVerifier {
  /** The allowed algorithms (safe to log). */
  readonly algorithms: readonly string[];
}

type KeyResolver = (
  header: { alg?: string; kid?: unknown },
  token: unknown,
) => Promise<CryptoKey | Uint8Array>;

interface JwtState {
  resolveKey: KeyResolver;
  algorithms: string[];
  issuer?: string[];
  audience?: string[];
  tolerance: number; // seconds
  maxTokenAge?: number; // seconds
  maxTokenLength: number;
  clock?: Clock;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const REQUIRED_CLAIMS = ["exp"];
const encoder = new TextEncoder();
const states = new WeakMap<JwtVerifier, JwtState>();

/**
 * Prepares JWT verification for {@linkcode verifyJwt}: validates the
 * options, parses the keys and sets up the remote key set. The `jwt`
 * middleware calls this; call it yourself to verify tokens outside HTTP.
 *
 * @example Usage
 * ```ts
 * import { exportSPKI, generateKeyPair, SignJWT } from "jose";
 * import { createJwtVerifier, verifyJwt } from "@cqi/auth";
 *
 * const { publicKey, privateKey } = await generateKeyPair("ES256");
 * const token = await new SignJWT({ scope: "orders:read" })
 *   .setProtectedHeader({ alg: "ES256" })
 *   .setSubject("service:billing")
 *   .setExpirationTime("5m")
 *   .sign(privateKey);
 * // A PEM as it would come from configuration.
 * const verifier = createJwtVerifier({ publicKey: await exportSPKI(publicKey) });
 * const auth = await verifyJwt(token, verifier);
 * console.log(auth.serviceId, auth.scopes); // "billing" ["orders:read"]
 * ```
 *
 * @param options Keys and checks.
 * @returns The verifier.
 * @throws {TypeError} When no key source is given or an option is invalid.
 * @throws {RangeError} When a number is out of range or a secret too short.
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  return prepareJwt(options, "createJwtVerifier");
}

/** Shared by `createJwtVerifier` and the `jwt` middleware. */
export function prepareJwt(
  options: JwtVerifierOptions,
  caller: string,
): JwtVerifier {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${caller}: options must be an object`);
  }
  const { publicKey, jwksUrl, secret } = options;
  if (
    publicKey === undefined && jwksUrl === undefined && secret === undefined
  ) {
    throw new TypeError(`${caller}: expected publicKey, jwksUrl or secret`);
  }
  const staticKeys = publicKey === undefined
    ? []
    : parsePublicKeys(publicKey, caller);
  const url = jwksUrl === undefined ? undefined : parseUrl(jwksUrl, caller);
  const secretBytes = secret === undefined
    ? undefined
    : secretOf(secret, caller);
  const algorithms = allowlist(options.algorithms, {
    staticKeys,
    url,
    secretBytes,
    caller,
  });

  const jwksOptions = {
    timeoutDuration: millis(caller, "jwksTimeout", options.jwksTimeout, 5_000, {
      integer: true,
    }),
    cooldownDuration: millis(
      caller,
      "jwksCooldown",
      options.jwksCooldown,
      30_000,
      { zero: true },
    ),
    cacheMaxAge: millis(
      caller,
      "jwksCacheMaxAge",
      options.jwksCacheMaxAge,
      600_000,
      { infinite: true },
    ),
  };
  const remote = url && createRemoteJWKSet(url, jwksOptions);
  const resolveKey: KeyResolver = async (header, token) => {
    const alg = header.alg!; // jose has checked it against the allowlist
    if (HMAC.has(alg)) return secretBytes!;
    const kid = header.kid;
    if (kid !== undefined && typeof kid !== "string") {
      throw refusal("malformed kid");
    }
    const key = pickStatic(staticKeys, alg, kid);
    if (key !== undefined) {
      return await key.import(alg).catch((cause) => {
        throw permanent("jwt public key cannot be imported", { cause });
      });
    }
    if (remote === undefined) throw refusal("unknown key");
    try {
      return await remote(
        header as Parameters<typeof remote>[0],
        token as never,
      );
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) {
        throw refusal("unknown key");
      }
      if (error instanceof errors.JWKSMultipleMatchingKeys) {
        // several keys fit a token without a kid (during a rotation, say):
        // verifyJwt tries each candidate
        throw new AmbiguousKey(error);
      }
      if (error instanceof errors.JOSENotSupported) {
        throw refusal("unsupported algorithm");
      }
      throw unavailable("jwks unavailable", error);
    }
  };

  const clock = options.clock;
  if (clock !== undefined && typeof clock?.now !== "function") {
    throw new TypeError(`${caller}: clock must have a now() method`);
  }
  const maxTokenAge = options.maxTokenAge === undefined
    ? undefined
    : millis(caller, "maxTokenAge", options.maxTokenAge, 0, {}) / 1000;
  const verifier: JwtVerifier = Object.freeze({
    algorithms: Object.freeze([...algorithms]),
  });
  states.set(verifier, {
    resolveKey,
    algorithms,
    issuer: stringList(options.issuer, "issuer", caller),
    audience: stringList(options.audience, "audience", caller),
    tolerance: millis(
      caller,
      "clockTolerance",
      options.clockTolerance,
      30_000,
      { zero: true },
    ) / 1000,
    maxTokenAge,
    maxTokenLength: count(
      caller,
      "maxTokenLength",
      options.maxTokenLength,
      8192,
    ),
    clock,
  });
  return verifier;
}

/**
 * Verifies a compact JWT and returns its caller. Checks, in order: length,
 * shape, the `alg` allowlist (so `none` and HMAC-with-a-public-key never
 * reach a key), the signature with the key the `alg` and `kid` select,
 * `exp` (required), `nbf`, `iat` (not in the future), `iss` and `aud` when
 * configured — with the clock tolerance. A `sub` of `service:<id>` sets
 * `serviceId`, any other `sub` sets `userId`; every claim is kept.
 *
 * Rejects with an `unauthorized` `CqiError` whose message is always
 * `invalid credentials`, whatever check failed; with a `temporary` one
 * (503) when the JWKS cannot be fetched.
 *
 * @example Usage
 * ```ts
 * import { isUnauthorized } from "@cqi/errors";
 * import { createJwtVerifier, verifyJwt } from "@cqi/auth";
 *
 * const verifier = createJwtVerifier({
 *   secret: "a shared secret of at least 32 bytes!",
 * });
 * const unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1LTEifQ.";
 * const error = await verifyJwt(unsigned, verifier).catch((e) => e);
 * console.log(isUnauthorized(error), error.message); // true "invalid credentials"
 * ```
 *
 * @param token The token as the caller sent it (no `Bearer ` prefix).
 * @param verifier Made by {@linkcode createJwtVerifier}.
 * @returns The caller the token identifies.
 */
export async function verifyJwt(
  token: string,
  verifier: JwtVerifier,
): Promise<AuthContext> {
  const state = states.get(verifier);
  if (state === undefined) {
    throw new TypeError("verifyJwt: verifier must come from createJwtVerifier");
  }
  if (typeof token !== "string" || token === "") throw refusal("empty token");
  if (token.length > state.maxTokenLength) throw refusal("token too long");
  if (!COMPACT_JWS.test(token)) throw refusal("malformed token");
  const now = state.clock === undefined ? Date.now() : state.clock.now();
  const checks = {
    algorithms: state.algorithms,
    issuer: state.issuer,
    audience: state.audience,
    requiredClaims: REQUIRED_CLAIMS,
    clockTolerance: state.tolerance,
    maxTokenAge: state.maxTokenAge,
    currentDate: state.clock === undefined ? undefined : new Date(now),
  };
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, state.resolveKey, checks));
  } catch (error) {
    if (!(error instanceof AmbiguousKey)) throw reasonFor(error);
    payload = await verifyWithCandidates(token, error.candidates, checks);
  }
  // jose checks `iat` only with maxTokenAge: a token from the future is
  // refused here either way.
  if (
    typeof payload.iat === "number" &&
    payload.iat > Math.floor(now / 1000) + state.tolerance
  ) {
    throw refusal("issued in the future");
  }
  return callerOf(payload);
}

/** Several JWKS keys fit the token; jose lets us iterate them. */
class AmbiguousKey extends Error {
  constructor(readonly candidates: AsyncIterable<CryptoKey>) {
    super("several keys match");
  }
}

// Bounds the work one token without a kid can cause.
const MAX_CANDIDATES = 5;

async function verifyWithCandidates(
  token: string,
  candidates: AsyncIterable<CryptoKey>,
  checks: Parameters<typeof jwtVerify>[2],
): Promise<Record<string, unknown>> {
  let last: unknown = refusal("unknown key");
  let tried = 0;
  for await (const key of candidates) {
    if (++tried > MAX_CANDIDATES) break;
    try {
      return (await jwtVerify(token, key, checks)).payload;
    } catch (error) {
      last = error;
      // another key may still verify the signature; any other failure is final
      if (!(error instanceof errors.JWSSignatureVerificationFailed)) break;
    }
  }
  throw reasonFor(last);
}

function callerOf(claims: Record<string, unknown>): AuthContext {
  const sub = claims.sub;
  if (sub !== undefined && typeof sub !== "string") {
    throw refusal("invalid sub claim");
  }
  const scopes: string[] = [];
  const add = (value: unknown) => {
    if (typeof value === "string") {
      for (const s of value.split(" ")) if (s !== "") scopes.push(s);
    } else if (Array.isArray(value)) {
      for (const s of value) {
        if (typeof s === "string" && s !== "") scopes.push(s);
      }
    }
  };
  add(claims.scope);
  add(claims.scp);
  const service = sub?.startsWith("service:") && sub.length > 8
    ? sub.slice(8)
    : undefined;
  return Object.freeze({
    authType: "jwt",
    ...(service !== undefined
      ? { serviceId: service }
      : sub !== undefined
      ? { userId: sub }
      : {}),
    scopes: Object.freeze([...new Set(scopes)]),
    claims: Object.freeze(claims),
  });
}

/** Maps what jose threw to a refusal with a fixed reason for the log. */
function reasonFor(error: unknown): CqiError {
  if (error instanceof CqiError) return error; // from resolveKey
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return refusal("algorithm not allowed");
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return refusal("bad signature");
  }
  if (error instanceof errors.JWTExpired) {
    return refusal(error.claim === "iat" ? "token too old" : "token expired");
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    if (error.reason === "missing") return refusal(`missing ${claim} claim`);
    if (error.reason === "invalid") return refusal(`invalid ${claim} claim`);
    const reasons: Record<string, string> = {
      iss: "wrong issuer",
      aud: "wrong audience",
      nbf: "not yet valid",
      iat: "issued in the future",
    };
    return refusal(reasons[claim] ?? "claim check failed");
  }
  if (
    error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid
  ) {
    return refusal("malformed token");
  }
  if (error instanceof errors.JOSENotSupported) {
    return refusal("unsupported token");
  }
  // Anything else (a TypeError for an unusable key, say) still refuses: a
  // caller must not be able to turn a crafted token into a 500.
  const name = error instanceof Error ? error.name : typeof error;
  return refusal(`verification failed (${name})`, true, error);
}

function pickStatic(
  keys: StaticKey[],
  alg: string,
  kid: string | undefined,
): StaticKey | undefined {
  let candidates = keys.filter((k) =>
    fits(k, alg) && (kid === undefined || k.kid === undefined || k.kid === kid)
  );
  if (candidates.length > 1 && kid !== undefined) {
    const exact = candidates.filter((k) => k.kid === kid);
    if (exact.length > 0) candidates = exact;
  }
  if (candidates.length > 1) throw refusal("ambiguous key");
  return candidates[0];
}

function allowlist(
  requested: readonly string[] | undefined,
  { staticKeys, url, secretBytes, caller }: {
    staticKeys: StaticKey[];
    url: URL | undefined;
    secretBytes: Uint8Array | undefined;
    caller: string;
  },
): string[] {
  if (requested === undefined) {
    const out = new Set<string>(staticKeys.flatMap(defaultAlgorithms));
    if (url !== undefined) {
      for (const alg of JWKS_DEFAULT_ALGORITHMS) out.add(alg);
    }
    if (secretBytes !== undefined) {
      checkSecretLength(secretBytes, "HS256", caller);
      out.add("HS256");
    }
    return [...out];
  }
  if (!Array.isArray(requested) || requested.length === 0) {
    throw new TypeError(`${caller}: algorithms must be a non-empty array`);
  }
  for (const alg of requested) {
    if (typeof alg === "string" && alg.toLowerCase() === "none") {
      throw new TypeError(`${caller}: algorithms: "none" is never allowed`);
    }
    if (HMAC.has(alg)) {
      if (secretBytes === undefined) {
        throw new TypeError(
          `${caller}: algorithms: ${alg} needs a secret; HMAC is never verified with a public key`,
        );
      }
      checkSecretLength(secretBytes, alg, caller);
    } else if (ASYMMETRIC.has(alg)) {
      if (url === undefined && !staticKeys.some((k) => fits(k, alg))) {
        throw new TypeError(
          `${caller}: algorithms: ${alg} fits none of the configured public keys`,
        );
      }
    } else {
      throw new TypeError(
        `${caller}: algorithms: unsupported ${JSON.stringify(alg)}`,
      );
    }
  }
  return [...new Set(requested)];
}

function checkSecretLength(bytes: Uint8Array, alg: string, caller: string) {
  const min = HMAC.get(alg)!;
  if (bytes.length < min) {
    throw new RangeError(
      `${caller}: secret must be at least ${min} bytes for ${alg}, got ${bytes.length}`,
    );
  }
}

function secretOf(
  secret: NonNullable<JwtVerifierOptions["secret"]>,
  caller: string,
): Uint8Array {
  if (secret instanceof Uint8Array) return new Uint8Array(secret);
  const text = typeof secret === "string" ? secret : secret?.reveal?.();
  if (typeof text !== "string") {
    throw new TypeError(
      `${caller}: secret must be a string, bytes or a Secret`,
    );
  }
  return encoder.encode(text);
}

function parseUrl(value: string | URL, caller: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${caller}: jwksUrl is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError(
      `${caller}: jwksUrl must be http(s), got ${url.protocol}`,
    );
  }
  return url;
}

function stringList(
  value: string | readonly string[] | undefined,
  name: string,
  caller: string,
): string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === "string" ? [value] : value;
  if (
    !Array.isArray(list) || list.length === 0 ||
    list.some((v) => typeof v !== "string" || v === "")
  ) {
    throw new TypeError(
      `${caller}: ${name} must be a non-empty string or list of them`,
    );
  }
  return [...list];
}

function millis(
  caller: string,
  name: string,
  value: number | undefined,
  fallback: number,
  { zero = false, integer = false, infinite = false },
): number {
  if (value === undefined) return fallback;
  const ok = typeof value === "number" &&
    (zero ? value >= 0 : value > 0) &&
    (infinite || value < Infinity) &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    throw new RangeError(
      `${caller}: ${name} must be ${
        integer ? "an integer" : "a number"
      } of milliseconds ${zero ? ">=" : ">"} 0, got ${value}`,
    );
  }
  return value;
}

function count(
  caller: string,
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `${caller}: ${name} must be an integer >= 1, got ${value}`,
    );
  }
  return value;
}
