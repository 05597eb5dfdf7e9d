// Static verification keys for JWTs: SPKI PEM and public JWKs, their types,
// and which algorithms fit them.
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
  /** RSA modulus length, as read from a PEM. */
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
    checkModulus(base64urlBytes(jwk.n as string) * 8, where);
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

// DER encodings of the algorithm and curve OIDs an SPKI may name.
const RSA_ENCRYPTION = "2a864886f70d010101";
const EC_PUBLIC_KEY = "2a8648ce3d0201";
const ED25519 = "2b6570";
const CURVES: Record<string, string> = {
  "2a8648ce3d030107": "P-256",
  "2b81040022": "P-384",
  "2b81040023": "P-521",
};

function parsePem(pem: string, where: string): StaticKey {
  const match =
    /^-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----$/
      .exec(pem);
  let der: Uint8Array;
  try {
    if (match === null) throw new Error();
    der = Uint8Array.from(
      atob(match[1].replace(/\s+/g, "")),
      (c) => c.charCodeAt(0),
    );
  } catch {
    throw new TypeError(`${where}: malformed PEM`);
  }
  const shape = spkiShape(der);
  if (shape === undefined) {
    throw new TypeError(
      `${where}: unsupported key in PEM (expected RSA, EC P-256/384/521 or Ed25519 SPKI)`,
    );
  }
  if (shape.kty === "RSA") checkModulus(shape.bits ?? 0, where);
  return withImport(shape, (alg) => importSPKI(pem, alg));
}

/** Reads the key type out of a DER SubjectPublicKeyInfo. */
export function spkiShape(der: Uint8Array): KeyShape | undefined {
  const outer = tlv(der, 0);
  if (outer?.tag !== 0x30 || outer.end !== der.length) return;
  const algorithm = tlv(der, outer.start);
  if (algorithm?.tag !== 0x30) return;
  const oid = tlv(der, algorithm.start);
  if (oid?.tag !== 0x06 || oid.end > algorithm.end) return;
  const bits = tlv(der, algorithm.end);
  if (bits?.tag !== 0x03 || bits.end !== outer.end) return;
  const id = hex(der.subarray(oid.start, oid.end));
  if (id === RSA_ENCRYPTION) {
    // BIT STRING: 0 unused bits, then RSAPublicKey ::= SEQUENCE { n, e }.
    const key = tlv(der, bits.start + 1);
    const n = key?.tag === 0x30 ? tlv(der, key.start) : undefined;
    if (n?.tag !== 0x02) return;
    let start = n.start;
    while (start < n.end && der[start] === 0) start++;
    return { kty: "RSA", bits: (n.end - start) * 8 };
  }
  if (id === ED25519) return { kty: "OKP", crv: "Ed25519" };
  if (id === EC_PUBLIC_KEY) {
    const param = tlv(der, oid.end);
    if (param?.tag !== 0x06 || param.end !== algorithm.end) return;
    const crv = CURVES[hex(der.subarray(param.start, param.end))];
    return crv === undefined ? undefined : { kty: "EC", crv };
  }
}

/** One DER tag-length-value at `pos`: tag, content start and end. */
function tlv(
  der: Uint8Array,
  pos: number,
): { tag: number; start: number; end: number } | undefined {
  if (pos + 2 > der.length) return;
  const tag = der[pos];
  let length = der[pos + 1];
  let start = pos + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3 || start + count > der.length) return;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i];
    start += count;
  }
  const end = start + length;
  return end > der.length ? undefined : { tag, start, end };
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

/** Decoded length of unpadded base64url text, leading zero bytes excluded. */
function base64urlBytes(text: string): number {
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    let start = 0;
    while (start < binary.length && binary.charCodeAt(start) === 0) start++;
    return binary.length - start;
  } catch {
    return 0;
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
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
