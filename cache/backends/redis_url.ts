// The `redis://` and `rediss://` URLs both drivers take: what a client needs
// of one, and nothing of it in any error (the URL may hold a password).
import { isIP } from "node:net";
import { permanent } from "@cqi/errors";

/** The parts of a `redis://` or `rediss://` URL a client needs. */
export interface RedisTarget {
  host: string;
  port: number;
  /**
   * For `rediss://`: the TLS options. SNI and the certificate check use the
   * host name (none for an IP address).
   */
  tls?: { servername?: string };
  username?: string;
  password?: string;
  database: number;
}

/**
 * Parses the URL. Its user name and password are percent-encoded (as
 * `encodeURIComponent` writes them).
 *
 * @throws {CqiError} `permanent`, for a URL that is no Redis URL.
 * @throws {TypeError} For a user name or password that is not valid
 * percent-encoding (a `%` not written as `%25`).
 */
export function parseRedisUrl(url: string): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw permanent("redis: invalid URL");
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw permanent(`redis: unsupported URL scheme ${parsed.protocol}`);
  }
  const path = parsed.pathname.replace(/^\//, "");
  const database = path === "" ? 0 : Number(path);
  if (!Number.isSafeInteger(database) || database < 0) {
    throw permanent("redis: the URL path must be a database number");
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  return {
    host,
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.protocol === "rediss:" &&
      { tls: isIP(host) ? {} : { servername: host } }),
    username: decode(parsed.username, "user name"),
    password: decode(parsed.password, "password"),
    database,
  };
}

function decode(part: string, what: string): string | undefined {
  try {
    return decodeURIComponent(part) || undefined;
  } catch {
    // not URIError's "URI malformed": which part, never its text
    throw new TypeError(
      `createCache: the Redis URL's ${what} is not valid percent-encoding (write % as %25)`,
    );
  }
}
