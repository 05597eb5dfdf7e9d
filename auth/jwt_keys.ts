// Static verification keys for JWTs: SPKI PEM and public JWKs, their types,
// and which algorithms fit them.
import { createPublicKey, type KeyObject } from "node:crypto";
import { importJWK, importSPKI } from "jose";
import { JWT_ALGORITHMS } from "@cqi/config";

/**
 * A public JSON Web Key (RFC 7517) as `jwt` accepts it: `kty` `RSA`, `EC`
 * (P-256, P-384, P-521) or `OKP` (Ed25519), with optional `kid`, `alg`,
 * `use` and `key_ops`. Private members (`d`) and symmetric keys are refused.
 *
 * @example Usage
 * ```ts
 * import type { PublicJwk } from "@cqi/auth";
 *
 * const jwk: PublicJwk = {
 *   kty: "OKP",
 *   crv: "Ed25519",
 *   x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
 *   kid: "2026-01",
 * };
 * ```
 */
export interface PublicJwk {
  /** Key type: `RSA`, `EC` or `OKP` (optional in the type, as in `jose`'s `JWK`; required at run time). */
  readonly kty?: string;
  /** Key id, matched against a token's `kid` header. */
  readonly kid?: string;
  /** The one algorithm this key may verify. */
  readonly alg?: string;
  /** Other members (`n`, `e`, `crv`, `x`, `y`, `use`, `key_ops`). */
  readonly [member: string]: unknown;
}

/** Every JWS algorithm jwt() supports: `@cqi/config`'s list, the one source. */
export const ALGORITHMS: readonly string[] = JWT_ALGORITHMS;

/** HMAC algorithms (allowed only with a configured secret), each with its shortest secret: the hash size. */
export const HMAC: ReadonlyMap<string, number> = new Map(
  ALGORITHMS.filter((alg) => alg.startsWith("HS")).map((
    alg,
  ) => [alg, Number(alg.slice(2)) / 8]),
);

/** Asymmetric JWS algorithms jwt() supports: the rest. */
export const ASYMMETRIC: ReadonlySet<string> = new Set(
  ALGORITHMS.filter((alg) => !HMAC.has(alg)),
);

/** Algorithms assumed for a JWKS URL when none are configured. */
export const JWKS_DEFAULT_ALGORITHMS: readonly string[] = [
  "RS256",
  "ES256",
  "EdDSA",
  "Ed25519",
];

/** The shape of a key, enough to tell which algorithms fit it. */
export interface KeyShape {
  kty: "RSA" | "EC" | "OKP";
  /** RSA modulus length in bits, as the platform reads it from a PEM. */
  bits?: number;
  crv?: string;
  alg?: string;
  kid?: string;
}

/** A configured public key, imported per algorithm on first use. */
export interface StaticKey extends KeyShape {
  import(alg: string): Promise<CryptoKey>;
}

const EC_ALGORITHMS: Record<string, string> = {
  "P-256": "ES256",
  "P-384": "ES384",
  "P-521": "ES512",
};

/** Whether `alg` can verify with a key of this shape. */
export function fits(key: KeyShape, alg: string): boolean {
  if (key.alg !== undefined && key.alg !== alg) return false;
  switch (key.kty) {
    case "RSA":
      return /^(RS|PS)(256|384|512)$/.test(alg);
    case "EC":
      return EC_ALGORITHMS[key.crv!] === alg;
    case "OKP":
      return alg === "EdDSA" || alg === "Ed25519";
  }
}

/** The algorithms a key allows by default: its `alg`, else by type. */
export function defaultAlgorithms(key: KeyShape): string[] {
  if (key.alg !== undefined) return [key.alg];
  switch (key.kty) {
    case "RSA":
      return ["RS256"];
    case "EC":
      return [EC_ALGORITHMS[key.crv!]];
    case "OKP":
      return ["EdDSA", "Ed25519"];
  }
}

/** Parses `publicKey`: PEM or JWK JSON strings, JWK objects, or a list. */
export function parsePublicKeys(input: unknown, caller: string): StaticKey[] {
  const list = Array.isArray(input) ? input : [input];
  if (list.length === 0) {
    throw new TypeError(`${caller}: publicKey must not be an empty list`);
  }
  return list.flatMap((item, i) => {
    const where = Array.isArray(input)
      ? `${caller}: publicKey[${i}]`
      : `${caller}: publicKey`;
    if (typeof item === "string") return parseText(item.trim(), where);
    return [parseJwk(item, where)];
  });
}

function parseText(text: string, where: string): StaticKey[] {
  if (text.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new TypeError(`${where}: not valid JWK JSON`);
    }
    const keys = (parsed as { keys?: unknown }).keys;
    if (Array.isArray(keys)) {
      return keys.map((k, i) => parseJwk(k, `${where} keys[${i}]`));
    }
    return [parseJwk(parsed, where)];
  }
  if (text.startsWith("-----BEGIN PUBLIC KEY-----")) {
    return [parsePem(text, where)];
  }
  throw new TypeError(
    `${where}: expected an SPKI PEM ("-----BEGIN PUBLIC KEY-----") or a JWK`,
  );
}

function parseJwk(value: unknown, where: string): StaticKey {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${where}: expected a JWK object or a PEM string`);
  }
  const jwk = value as Record<string, unknown>;
  if (jwk.kty === "oct") {
    throw new TypeError(
      `${where}: a symmetric JWK is not a public key; configure it as secret`,
    );
  }
  if ("d" in jwk) {
    throw new TypeError(
      `${where}: a private key was given; pass the public key`,
    );
  }
  const str = (name: string) => typeof jwk[name] === "string";
  let shape: KeyShape;
  if (jwk.kty === "RSA" && str("n") && str("e")) {
    shape = { kty: "RSA" };
    const material = { kty: "RSA", n: jwk.n, e: jwk.e };
    checkModulus(jwkModulus(material, where), where);
  } else if (
    jwk.kty === "EC" && str("crv") && (jwk.crv as string) in EC_ALGORITHMS &&
    str("x") && str("y")
  ) {
    shape = { kty: "EC", crv: jwk.crv as string };
  } else if (jwk.kty === "OKP" && jwk.crv === "Ed25519" && str("x")) {
    shape = { kty: "OKP", crv: "Ed25519" };
  } else {
    throw new TypeError(
      `${where}: unsupported or incomplete JWK (expected RSA, EC P-256/384/521 or OKP Ed25519)`,
    );
  }
  if (jwk.kid !== undefined) {
    if (!str("kid")) throw new TypeError(`${where}: kid must be a string`);
    shape.kid = jwk.kid as string;
  }
  if (jwk.alg !== undefined) {
    if (
      !str("alg") || !ASYMMETRIC.has(jwk.alg as string) ||
      !fits(shape, jwk.alg as string)
    ) {
      throw new TypeError(
        `${where}: alg ${
          JSON.stringify(jwk.alg)
        } does not fit a ${shape.kty} key`,
      );
    }
    shape.alg = jwk.alg as string;
  }
  if (jwk.use !== undefined && jwk.use !== "sig") {
    throw new TypeError(`${where}: use must be "sig"`);
  }
  if (
    jwk.key_ops !== undefined &&
    !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify"))
  ) {
    throw new TypeError(`${where}: key_ops must include "verify"`);
  }
  const material: Record<string, unknown> = { kty: jwk.kty };
  for (const name of ["crv", "n", "e", "x", "y"]) {
    if (jwk[name] !== undefined) material[name] = jwk[name];
  }
  // A public RSA/EC/OKP JWK always imports as a CryptoKey.
  return withImport(
    shape,
    (alg) => importJWK(material, alg) as unknown as Promise<CryptoKey>,
  );
}

// Node's curve names for the JWK curves jwt() accepts.
const CURVES: Record<string, string> = {
  prime256v1: "P-256",
  secp384r1: "P-384",
  secp521r1: "P-521",
};

function parsePem(pem: string, where: string): StaticKey {
  const match =
    /^-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----$/
      .exec(pem);
  try {
    if (match === null) throw new Error();
    atob(match[1].replace(/\s+/g, ""));
  } catch {
    throw new TypeError(`${where}: malformed PEM`);
  }
  let key: KeyObject | undefined;
  try {
    key = createPublicKey(pem);
  } catch {
    // Not DER the platform can read, or a key type its build lacks.
  }
  const shape = key === undefined ? undefined : keyShape(key);
  if (shape === undefined) {
    throw new TypeError(
      `${where}: unsupported key in PEM (expected RSA, EC P-256/384/521 or Ed25519 SPKI)`,
    );
  }
  if (shape.kty === "RSA") checkModulus(shape.bits ?? 0, where);
  return withImport(shape, (alg) => importSPKI(pem, alg));
}

/**
 * A public key's shape as the platform reads it (`node:crypto`'s
 * `asymmetricKeyType` and `asymmetricKeyDetails`), or `undefined` for a type
 * or curve jwt() does not support.
 */
function keyShape(key: KeyObject): KeyShape | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "rsa":
      return { kty: "RSA", bits: details.modulusLength ?? 0 };
    case "ed25519":
      return { kty: "OKP", crv: "Ed25519" };
    case "ec": {
      const crv = CURVES[details.namedCurve ?? ""];
      return crv === undefined ? undefined : { kty: "EC", crv };
    }
  }
}

/**
 * An RSA JWK's modulus length, as the platform reads it. Only an RSA key's
 * size is read when parsing; EC and OKP material is checked on import.
 */
function jwkModulus(material: Record<string, unknown>, where: string): number {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: material, format: "jwk" });
  } catch {
    throw new TypeError(`${where}: not a valid RSA public key`);
  }
  const shape = keyShape(key);
  return shape?.kty === "RSA" ? shape.bits ?? 0 : 0;
}

/** RSA keys shorter than this are refused (RFC 7518 §3.3). */
const MIN_RSA_BITS = 2048;

function checkModulus(bits: number, where: string) {
  if (bits < MIN_RSA_BITS) {
    throw new TypeError(
      `${where}: RSA keys must be at least ${MIN_RSA_BITS} bits, got ${bits}`,
    );
  }
}

function withImport(
  shape: KeyShape,
  load: (alg: string) => Promise<CryptoKey>,
): StaticKey {
  const imports = new Map<string, Promise<CryptoKey>>();
  return {
    ...shape,
    import(alg) {
      let key = imports.get(alg);
      if (key === undefined) imports.set(alg, key = load(alg));
      return key;
    },
  };
}
