import { invalidInput } from "@cqi/errors";

/** The longest key the cache takes, in UTF-16 code units. */
export const MAX_KEY_LENGTH = 4_096;

/**
 * Builds cache keys: `{service}:{prefix}:v{version}:{part}:{part}…`.
 * Every segment is escaped (`%` → `%25`, `:` → `%3A`), so that parts
 * containing `:` never collide: `key("a", "b:c")` and `key("a", "b", "c")`
 * differ.
 *
 * @example Usage
 * ```ts
 * import { createCache } from "@cqi/cache";
 *
 * await using cache = createCache("memory://", { service: { name: "cqpm" } });
 * console.log(cache.key("asset", "BTC")); // "cqpm:asset:v1:BTC"
 * console.log(cache.key("pair", "BTC:USD")); // "cqpm:pair:v1:BTC%3AUSD"
 * ```
 */
export type KeyBuilder = (
  prefix: string,
  ...parts: (string | number | bigint)[]
) => string;

/**
 * Returns the key builder of a service: its name, then the prefix, then
 * `v{version}` (bump it when a value's encoding changes, so that old entries
 * are never read), then the parts.
 */
export function keyBuilder(service: string, version: number): KeyBuilder {
  const head = keyHead(service);
  const tail = `:v${version}`;
  return (prefix, ...parts) => {
    if (typeof prefix !== "string" || prefix === "") {
      throw invalidInput("cache key prefix must be a non-empty string");
    }
    let key = head + escape(prefix) + tail;
    for (const part of parts) {
      if (
        typeof part !== "string" && typeof part !== "number" &&
        typeof part !== "bigint"
      ) {
        throw invalidInput("cache key parts must be strings or numbers");
      }
      key += ":" + escape(String(part));
    }
    return checkKey(key);
  };
}

/** What every key of `service` starts with. */
export function keyHead(service: string): string {
  return `${escape(service)}:`;
}

/**
 * The namespace of a key built by a {@linkcode keyBuilder} of `head` and
 * `version` (its prefix, unescaped), or `"other"` for any other key, so
 * that a raw key's contents never become a label.
 */
export function namespaceOf(
  key: string,
  head: string,
  version: number,
): string {
  if (!key.startsWith(head)) return "other";
  const end = key.indexOf(":", head.length);
  if (end === -1) return "other";
  const tail = `:v${version}`;
  if (
    !key.startsWith(tail, end) ||
    (key.length > end + tail.length && key[end + tail.length] !== ":")
  ) return "other";
  const prefix = key.slice(head.length, end);
  return prefix.includes("%") ? unescape(prefix) : prefix;
}

/** Checks a key given to the cache: a non-empty string of bounded length. */
export function checkKey(key: unknown): string {
  if (typeof key !== "string" || key === "") {
    throw invalidInput("cache key must be a non-empty string");
  }
  if (key.length > MAX_KEY_LENGTH) {
    throw invalidInput(
      `cache key is ${key.length} characters long; the limit is ${MAX_KEY_LENGTH}`,
    );
  }
  // Redis stores UTF-8: lone surrogates would all become U+FFFD, so two
  // different keys would name one entry.
  if (!key.isWellFormed()) {
    throw invalidInput(
      "cache key is not well-formed Unicode (a lone surrogate)",
    );
  }
  return key;
}

function escape(segment: string): string {
  return /[%:]/.test(segment)
    ? segment.replaceAll("%", "%25").replaceAll(":", "%3A")
    : segment;
}

function unescape(segment: string): string {
  return segment.replace(/%(25|3A)/g, (code) => code === "%25" ? "%" : ":");
}
