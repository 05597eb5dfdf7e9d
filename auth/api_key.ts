import { hash } from "node:crypto";
import type { AuthContext } from "./context.ts";
import { refusal } from "./failure.ts";

/**
 * One accepted API key. Exactly one of `key` (the plain key, as a string or
 * a secret wrapper such as `@cqi/config`'s `Secret`) and `hash` (its SHA-256
 * digest in hex) is set. `@cqi/config`'s `ApiKeyConfig` records fit as they
 * are.
 *
 * @example Usage
 * ```ts
 * import type { ApiKeyRecord } from "@cqi/auth";
 *
 * const record: ApiKeyRecord = {
 *   id: "billing",
 *   hash: "7fa0ba1d0fd5d3b4d6c6b3b7e2c4b5f8e2f5d1a0c3b6e9f2a5d8c1b4e7f0a3d6",
 *   serviceId: "billing",
 *   scopes: ["orders:read"],
 * };
 * ```
 */
export interface ApiKeyRecord {
  /** Names the key in the auth context and in logs. */
  id: string;
  /** The plain key; read once at startup, hashed, then dropped. */
  key?: string | { reveal(): string };
  /** The key's SHA-256 digest, 64 hex digits. */
  hash?: string;
  /** The calling service this key identifies. */
  serviceId?: string;
  /** Scopes granted to the caller. Default none. */
  scopes?: readonly string[];
}

/**
 * Options for {@linkcode createApiKeyVerifier}.
 *
 * @example Usage
 * ```ts
 * import type { ApiKeyVerifierOptions } from "@cqi/auth";
 *
 * const options: ApiKeyVerifierOptions = {
 *   keys: [{ id: "ops", key: "correct-horse-battery-staple" }],
 * };
 * ```
 */
export interface ApiKeyVerifierOptions {
  /** The accepted keys; at least one, with unique ids. */
  keys: readonly ApiKeyRecord[];
}

/**
 * A prepared set of API keys for {@linkcode verifyApiKey}: SHA-256 digests
 * only, no plain key.
 *
 * @example Usage
 * ```ts
 * import { createApiKeyVerifier } from "@cqi/auth";
 *
 * const verifier = createApiKeyVerifier({ keys: [{ id: "ops", key: "s3cr3t" }] });
 * console.log(verifier.ids); // ["ops"]
 * ```
 */
export interface ApiKeyVerifier {
  /** The ids of the accepted keys, in order (safe to log). */
  readonly ids: readonly string[];
}

interface KeySet {
  /** Every key's digest, 32 bytes each, back to back. */
  digests: Uint8Array;
  /** The caller each key identifies, by position. */
  callers: readonly AuthContext[];
}

const DIGEST_BYTES = 32;
/** Longer presented keys are refused before hashing. */
const MAX_KEY_LENGTH = 4096;
const HEX = /^[0-9a-f]{64}$/i;
const keySets = new WeakMap<ApiKeyVerifier, KeySet>();

/**
 * Test-only seam, not exported from `mod.ts`: `prepared` sees each key set
 * as it is made (to prove what is kept), and `compare` is the digest
 * comparison every presented key goes through.
 */
export const seam: {
  prepared?: (kept: KeySet) => void;
  compare: (digest: Uint8Array, all: Uint8Array) => number;
} = { compare: findDigest };

/**
 * Prepares API keys for {@linkcode verifyApiKey}: validates the records,
 * hashes each plain key with SHA-256 (`node:crypto`) and keeps only the
 * digests. The `apiKey` middleware calls this; call it yourself to check
 * keys outside HTTP (gRPC metadata, a message header).
 *
 * @example Usage
 * ```ts
 * import { createApiKeyVerifier, verifyApiKey } from "@cqi/auth";
 *
 * const verifier = createApiKeyVerifier({
 *   keys: [{ id: "billing", key: "s3cr3t-billing", serviceId: "billing" }],
 * });
 * const auth = await verifyApiKey("s3cr3t-billing", verifier);
 * console.log(auth.serviceId, auth.keyId); // "billing" "billing"
 * ```
 *
 * @param options The keys.
 * @returns The verifier.
 * @throws {TypeError} When a record is malformed or an id repeats.
 */
export function createApiKeyVerifier(
  options: ApiKeyVerifierOptions,
): ApiKeyVerifier {
  return prepare(options, "createApiKeyVerifier");
}

/** Shared by `createApiKeyVerifier` and the `apiKey` middleware. */
export function prepare(
  options: ApiKeyVerifierOptions,
  caller: string,
): ApiKeyVerifier {
  const keys = options?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new TypeError(`${caller}: keys must be a non-empty array`);
  }
  const ids = new Set<string>();
  const callers: AuthContext[] = [];
  const digests = new Uint8Array(keys.length * DIGEST_BYTES);
  keys.forEach((record: ApiKeyRecord, i) => {
    const where = `${caller}: keys[${i}]`;
    if (typeof record?.id !== "string" || record.id === "") {
      throw new TypeError(`${where}.id must be a non-empty string`);
    }
    if (ids.has(record.id)) {
      throw new TypeError(`${where}.id ${JSON.stringify(record.id)} repeats`);
    }
    ids.add(record.id);
    if ((record.key === undefined) === (record.hash === undefined)) {
      throw new TypeError(`${where}: expected exactly one of key and hash`);
    }
    if (record.hash !== undefined) {
      if (typeof record.hash !== "string" || !HEX.test(record.hash)) {
        throw new TypeError(`${where}.hash must be 64 hex digits (SHA-256)`);
      }
      digests.set(fromHex(record.hash), i * DIGEST_BYTES);
    } else {
      const plain = typeof record.key === "string"
        ? record.key
        : record.key?.reveal?.();
      if (typeof plain !== "string" || plain === "") {
        throw new TypeError(`${where}.key must be a non-empty string`);
      }
      digests.set(sha256(plain), i * DIGEST_BYTES);
    }
    const scopes = record.scopes ?? [];
    if (
      !Array.isArray(scopes) || scopes.some((s) => typeof s !== "string")
    ) {
      throw new TypeError(`${where}.scopes must be an array of strings`);
    }
    if (
      record.serviceId !== undefined && typeof record.serviceId !== "string"
    ) {
      throw new TypeError(`${where}.serviceId must be a string`);
    }
    callers.push(Object.freeze({
      authType: "api_key",
      keyId: record.id,
      ...(record.serviceId ? { serviceId: record.serviceId } : {}),
      scopes: Object.freeze([...scopes]),
      claims: Object.freeze({}),
    }));
  });
  const verifier: ApiKeyVerifier = Object.freeze({
    ids: Object.freeze([...ids]),
  });
  const set: KeySet = { digests, callers };
  keySets.set(verifier, set);
  seam.prepared?.(set);
  return verifier;
}

/**
 * Checks a presented API key against a verifier's keys: hashes it with
 * SHA-256 and compares the digest with every configured digest in constant
 * time, so neither how much of a key matched nor which key matched shows in
 * the timing. Every presented key takes that path, accepted before or not:
 * no presented key is remembered, so the verifier holds digests only.
 * Resolves with the caller; rejects with an `unauthorized` `CqiError`
 * (message `invalid credentials`) for an unknown, empty or oversized key.
 *
 * @example Usage
 * ```ts
 * import { isUnauthorized } from "@cqi/errors";
 * import { createApiKeyVerifier, verifyApiKey } from "@cqi/auth";
 *
 * const verifier = createApiKeyVerifier({ keys: [{ id: "ops", key: "s3cr3t" }] });
 * const refused = await verifyApiKey("s3cr3u", verifier).catch((e) => e);
 * console.log(isUnauthorized(refused)); // true
 * ```
 *
 * @param key The key as the caller sent it.
 * @param verifier Made by {@linkcode createApiKeyVerifier}.
 * @returns The caller the key identifies.
 */
export function verifyApiKey(
  key: string,
  verifier: ApiKeyVerifier,
): Promise<AuthContext> {
  try {
    return Promise.resolve(checkApiKey(key, verifier, "verifyApiKey"));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** `verifyApiKey`, synchronously: returns the caller or throws. */
export function checkApiKey(
  key: string,
  verifier: ApiKeyVerifier,
  caller: string,
): AuthContext {
  const set = keySets.get(verifier);
  if (set === undefined) {
    throw new TypeError(
      `${caller}: verifier must come from createApiKeyVerifier`,
    );
  }
  if (typeof key !== "string" || key === "") throw refusal("empty api key");
  if (key.length > MAX_KEY_LENGTH) throw refusal("api key too long");
  const index = seam.compare(sha256(key), set.digests);
  if (index < 0) throw refusal("unknown api key");
  return set.callers[index];
}

/**
 * The position of `digest` in `all` (32-byte digests back to back), or -1.
 * Every byte of every digest is compared, whatever matches: no early exit on
 * content, and the first match is selected without a branch on it.
 */
export function findDigest(digest: Uint8Array, all: Uint8Array): number {
  let found = -1;
  const count = all.length / DIGEST_BYTES;
  for (let k = 0; k < count; k++) {
    const base = k * DIGEST_BYTES;
    let diff = 0;
    for (let i = 0; i < DIGEST_BYTES; i++) diff |= digest[i] ^ all[base + i];
    // 1 when diff is 0 (then diff - 1 is -1), else 0.
    const equal = (diff - 1) >>> 31;
    // Take k only when this digest is equal and none matched before.
    const take = equal & (found >>> 31);
    found += take * (k - found);
  }
  return found;
}

// node:crypto rather than crypto.subtle: the presented key is hashed on
// every request, and subtle.digest is an async operation that cost about 6×
// as much on Deno and 3.5× on Bun for a 44-byte key (see the README). The
// one-shot `hash` with hex output, decoded here, cost about a third of
// `createHash(...).digest()` on Deno (1.3 µs vs 4 µs for a 44-byte key) and
// no more on Bun.
function sha256Hex(text: string): string {
  return hash("sha256", text, "hex");
}

function sha256(text: string): Uint8Array {
  return fromHex(sha256Hex(text));
}

/** Decodes 64 hex digits (either case; checked by the caller) to 32 bytes. */
function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(DIGEST_BYTES);
  for (let i = 0; i < DIGEST_BYTES; i++) {
    out[i] = (nibble(hex.charCodeAt(2 * i)) << 4) |
      nibble(hex.charCodeAt(2 * i + 1));
  }
  return out;
}

/** The value of one hex digit's char code: `0-9` → 0-9, `a-f`/`A-F` → 10-15. */
function nibble(code: number): number {
  return (code & 15) + (code >> 6) * 9;
}

/**
 * The SHA-256 digest of a key in hex: the `hash` to configure instead of
 * the plain key, so the key itself is stored nowhere on the server.
 *
 * @example Usage
 * ```ts
 * import { hashApiKey } from "@cqi/auth";
 *
 * console.log(await hashApiKey("test"));
 * // "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
 * ```
 *
 * @param key The plain key.
 * @returns 64 lowercase hex digits.
 */
export function hashApiKey(key: string): Promise<string> {
  if (typeof key !== "string" || key === "") {
    return Promise.reject(
      new TypeError("hashApiKey: key must be a non-empty string"),
    );
  }
  return Promise.resolve(sha256Hex(key));
}

/**
 * A new random API key: 32 bytes from `crypto.getRandomValues`, base64url
 * encoded (43 characters, valid in a `Bearer` header). For development
 * setups that have no key configured, and for issuing keys.
 *
 * @example Usage
 * ```ts
 * import { generateApiKey } from "@cqi/auth";
 *
 * const key = generateApiKey();
 * console.log(key.length); // 43
 * ```
 *
 * @returns The key.
 */
export function generateApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");
}
