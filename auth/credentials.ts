// Reading credentials from request headers (RFC 6750 §2.1, RFC 7235 §2.1).

/** What an `Authorization` header holds. */
export type BearerCredential =
  | { kind: "missing" }
  | { kind: "other_scheme" }
  | { kind: "malformed" }
  | { kind: "token"; token: string };

// `Bearer` (any case), one or more spaces, then exactly one token68. A
// second token, a comma (two headers joined by fetch), a quote or any other
// character makes the credential malformed.
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
// `Bearer` as a whole scheme name (not `Bearerx`), followed by anything.
const BEARER_SCHEME = /^bearer(?![!#$%&'*+\-.^_`|~0-9a-z])/i;

const MISSING: BearerCredential = { kind: "missing" };
const OTHER: BearerCredential = { kind: "other_scheme" };
const MALFORMED: BearerCredential = { kind: "malformed" };

/** Parses an `Authorization` header value. */
export function readBearer(header: string | null): BearerCredential {
  if (header === null || header === "") return MISSING;
  const match = BEARER.exec(header);
  if (match !== null) return { kind: "token", token: match[1] };
  return BEARER_SCHEME.test(header) ? MALFORMED : OTHER;
}

// An encoded dot, slash or backslash could make a router see a different
// path than the exclusion list did; such a path is never excluded. So is
// one with a "." or ".." segment or a backslash: Deno.serve passes
// `/health/../admin` through as it came, and `new URL()` (CQI's router)
// resolves it to `/admin` while Hono routes it unresolved.
const AMBIGUOUS_PATH = /%(?:2e|2f|5c)|\\|(?:^|\/)\.\.?(?:\/|$)/i;

/**
 * Compiles `exclude` patterns: `/metrics` matches that path exactly;
 * `/health/*` matches `/health` and everything under `/health/`.
 * Returns `undefined` for an empty list.
 */
export function compileExclusions(
  exclude: readonly string[] | undefined,
  option = "exclude",
): ((path: string) => boolean) | undefined {
  if (exclude === undefined) return undefined;
  if (!Array.isArray(exclude)) {
    throw new TypeError(`${option} must be an array of paths`);
  }
  if (exclude.length === 0) return undefined;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const pattern of exclude) {
    if (typeof pattern !== "string" || !pattern.startsWith("/")) {
      throw new TypeError(
        `${option}: expected paths starting with "/", got ${
          JSON.stringify(pattern)
        }`,
      );
    }
    const star = pattern.indexOf("*");
    if (star >= 0 && (star !== pattern.length - 1 || !pattern.endsWith("/*"))) {
      throw new TypeError(
        `${option}: "*" is only allowed as a final "/*", got ${
          JSON.stringify(pattern)
        }`,
      );
    }
    if (star < 0) {
      exact.add(pattern);
    } else {
      const prefix = pattern.slice(0, -1); // keeps the trailing "/"
      prefixes.push(prefix);
      if (prefix.length > 1) exact.add(prefix.slice(0, -1));
    }
  }
  return (path) => {
    let hit = exact.has(path);
    for (let i = 0; !hit && i < prefixes.length; i++) {
      hit = path.startsWith(prefixes[i]);
    }
    return hit && !AMBIGUOUS_PATH.test(path);
  };
}
