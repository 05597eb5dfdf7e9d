import * as v from "valibot";
import { duration } from "./duration.ts";
import {
  list,
  oneOf,
  optionalField,
  text,
  withDefault,
} from "./field_schemas.ts";
import type { ConfigSchema } from "./valibot_adapter.ts";
import { Secret, secret, SECRET_METADATA } from "./secret.ts";

/**
 * One API key. Exactly one of `key` (the plain key, a {@linkcode Secret})
 * or `hash` (its SHA-256 digest) is set.
 *
 * @example Usage
 * ```ts
 * import { type ApiKeyConfig, Secret } from "@cqi/config";
 *
 * const key: ApiKeyConfig = {
 *   id: "billing",
 *   key: new Secret("s3cr3t"),
 *   serviceId: "billing",
 *   scopes: ["orders:read"],
 * };
 * ```
 */
export interface ApiKeyConfig {
  /** Names the key in logs. Default `key-<n>`, `n` its position from 1. */
  id: string;
  /** The plain key. */
  key?: Secret;
  /** The key's SHA-256 digest (hex), instead of the plain key. */
  hash?: string;
  /** The calling service this key identifies. */
  serviceId?: string;
  /** Scopes granted to the caller. Default none. */
  scopes: string[];
}

/**
 * JWT verification settings. At least one of `secret`, `publicKey` or
 * `jwksUrl` is required.
 *
 * @example Usage
 * ```ts
 * import type { JwtConfig } from "@cqi/config";
 *
 * const jwt: JwtConfig = {
 *   jwksUrl: "https://auth.example.com/.well-known/jwks.json",
 *   issuer: "https://auth.example.com/",
 *   audience: ["cqpm"],
 *   clockTolerance: 30_000,
 * };
 * ```
 */
export interface JwtConfig {
  /** Shared HMAC secret, for HS* algorithms only. */
  secret?: Secret;
  /** Public key (PEM or JWK JSON) that verifies signatures; public, not redacted. */
  publicKey?: string;
  /** URL of a JSON Web Key Set. */
  jwksUrl?: string;
  /** Required `iss` claim. */
  issuer?: string;
  /** Accepted `aud` values. */
  audience?: string[];
  /** Allowed algorithms. Default: those of the configured keys. */
  algorithms?: string[];
  /** Milliseconds of clock skew allowed for `exp` and `nbf`. Default 30 s. */
  clockTolerance: number;
}

/**
 * The `auth` section. When present it needs API keys or a `jwt` block.
 *
 * @example Usage
 * ```ts
 * import type { AuthConfig } from "@cqi/config";
 *
 * const auth: AuthConfig = {
 *   apiKeys: [{ id: "ops", hash: "9f86d081884c7d65...", scopes: [] }],
 * };
 * ```
 */
export interface AuthConfig {
  /** Accepted API keys. Default none. */
  apiKeys: ApiKeyConfig[];
  /** JWT verification, if tokens are accepted. */
  jwt?: JwtConfig;
}

/**
 * The JWS algorithms CQI verifies JWTs with — HMAC (with a shared secret),
 * RSA, RSA-PSS, ECDSA, and EdDSA under both its names (`EdDSA` and the fully
 * specified `Ed25519`); `none` is never one. The one list: `auth.jwt.algorithms`
 * is validated against it and `@cqi/auth`'s `jwt` supports exactly these.
 *
 * @example Usage
 * ```ts
 * import { JWT_ALGORITHMS } from "@cqi/config";
 *
 * console.log(JWT_ALGORITHMS.includes("Ed25519")); // true
 * ```
 */
export const JWT_ALGORITHMS = [
  "HS256",
  "HS384",
  "HS512",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;

// `key` or `serviceId:key`; ids are filled in by position afterwards.
const shorthandKey = v.pipe(
  v.string(),
  v.minLength(1, "expected a key or serviceId:key"),
  v.transform((entry): ApiKeyConfig => {
    const colon = entry.indexOf(":");
    if (colon < 0) return { id: "", key: new Secret(entry), scopes: [] };
    return {
      id: "",
      serviceId: entry.slice(0, colon),
      key: new Secret(entry.slice(colon + 1)),
      scopes: [],
    };
  }),
  v.check((k) => k.key!.reveal() !== "", "expected a non-empty key"),
);

const keyRecord = v.pipe(
  v.object({
    id: optionalField(text(), "Names the key in logs; default `key-<n>`."),
    key: optionalField(secret(), "The plain key."),
    hash: optionalField(text(), "The key's SHA-256 digest (hex)."),
    serviceId: optionalField(text(), "The calling service."),
    scopes: withDefault(list(text()), [], "Scopes granted."),
  }, "expected a mapping"),
  v.check(
    (k) => (k.key === undefined) !== (k.hash === undefined),
    "expected exactly one of key and hash",
  ),
);

const apiKeys = v.pipe(
  v.array(
    v.union(
      [shorthandKey, keyRecord],
      "expected a key, serviceId:key, or { id, key | hash, serviceId, scopes }",
    ),
    "expected a list",
  ),
  v.transform((keys): ApiKeyConfig[] =>
    keys.map((k, i) => k.id ? k as ApiKeyConfig : { ...k, id: `key-${i + 1}` })
  ),
  v.check(
    (keys) => new Set(keys.map((k) => k.id)).size === keys.length,
    "expected unique key ids",
  ),
  v.metadata(SECRET_METADATA),
);

const jwtSchema: ConfigSchema<JwtConfig> = v.pipe(
  v.object({
    secret: optionalField(secret(), "Shared HMAC secret (HS* algorithms)."),
    publicKey: optionalField(
      text(),
      "Public key (PEM or JWK JSON) that verifies signatures.",
    ),
    jwksUrl: optionalField(
      v.pipe(text(), v.url("expected a URL")),
      "URL of a JSON Web Key Set.",
    ),
    issuer: optionalField(text(), "Required `iss` claim."),
    audience: optionalField(list(text()), "Accepted `aud` values."),
    algorithms: optionalField(
      list(oneOf(JWT_ALGORITHMS)),
      "Allowed algorithms; unset: those of the configured keys.",
    ),
    clockTolerance: withDefault(
      duration(),
      "30s",
      "Clock skew allowed for `exp` and `nbf`.",
    ),
  }, "expected a mapping"),
  v.check(
    (jwt) =>
      jwt.secret !== undefined || jwt.publicKey !== undefined ||
      jwt.jwksUrl !== undefined,
    "expected secret, publicKey or jwksUrl",
  ),
);

/** Schema of {@linkcode AuthConfig}. */
export const authSchema: ConfigSchema<AuthConfig> = v.pipe(
  v.object({
    apiKeys: withDefault(
      apiKeys,
      [],
      "API keys: `key` or `serviceId:key` entries (comma-separated in the environment), or records `{ id, key | hash, service_id, scopes }` in files.",
    ),
    jwt: v.optional(jwtSchema),
  }, "expected a mapping"),
  v.check(
    (auth) => auth.apiKeys.length > 0 || auth.jwt !== undefined,
    "expected api keys or a jwt block",
  ),
);
