// Where a request goes: the base URL joined with a path, credentials taken
// out of the URL. Internal.

/** A parsed base URL: its origin and path prefix, and Basic credentials. */
export interface Base {
  url: URL;
  /** The path prefix, without a trailing slash. */
  prefix: string;
  /** `Basic ...` from credentials in the base URL. */
  authorization?: string;
}

/** Parses `baseUrl`, moving any `user:password@` into a Basic header. */
export function parseBase(baseUrl: string | URL): Base {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError("createHttpClient: baseUrl is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(
      `createHttpClient: baseUrl must be http: or https:, got ${url.protocol}`,
    );
  }
  const authorization = takeCredentials(url);
  url.search = "";
  url.hash = "";
  return { url, prefix: url.pathname.replace(/\/+$/, ""), authorization };
}

/**
 * The URL for `input`. With a base, a string or URL that is not absolute is
 * a path under the base's prefix (`orders/1` and `/orders/1` alike) and
 * must stay under it; an absolute one must have the base's origin. Throws
 * `TypeError` otherwise, never naming credentials.
 */
export function resolve(
  base: Base | undefined,
  input: string | URL,
): { url: URL; authorization?: string } {
  const text = String(input);
  const absolute = /^[a-z][a-z\d+.-]*:/i.test(text);
  let url: URL;
  if (base === undefined || absolute) {
    try {
      url = new URL(text);
    } catch {
      throw new TypeError("httpclient: the request URL is not valid");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(
        `httpclient: only http: or https: URLs are fetched, got ${url.protocol}`,
      );
    }
    if (base !== undefined && url.origin !== base.url.origin) {
      throw new TypeError(
        `httpclient: ${url.host} is not the base URL's host ${base.url.host}`,
      );
    }
  } else {
    url = new URL(
      `${base.prefix}/${text.replace(/^[/\\]+/, "")}`,
      base.url.origin,
    );
    if (!within(base, url)) {
      throw new TypeError(
        `httpclient: the path leaves the base URL's ${base.prefix || "/"}`,
      );
    }
  }
  const authorization = takeCredentials(url) ?? base?.authorization;
  return { url, authorization };
}

/**
 * Whether `url` is where requests may go: with a base, its origin and under
 * its path prefix; without one, `origin`'s origin (a redirect's start).
 */
export function within(
  base: Base | undefined,
  url: URL,
  origin?: URL,
): boolean {
  if (base === undefined) return url.origin === origin?.origin;
  return url.origin === base.url.origin &&
    (url.pathname === base.prefix ||
      url.pathname.startsWith(`${base.prefix}/`));
}

function takeCredentials(url: URL): string | undefined {
  if (url.username === "" && url.password === "") return undefined;
  let pair: string;
  try {
    pair = `${decodeURIComponent(url.username)}:${
      decodeURIComponent(url.password)
    }`;
  } catch {
    throw new TypeError(
      "httpclient: the credentials in the URL have a malformed % escape",
    );
  }
  url.username = "";
  url.password = "";
  const bytes = new TextEncoder().encode(pair);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}
