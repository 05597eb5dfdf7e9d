// Following redirects by hand, so that none leaves the base URL nor carries
// its headers elsewhere. Internal.
import { permanent } from "@cqi/errors";
import { isReplayable } from "./body.ts";

/** Redirects followed at most in one attempt. */
export const MAX_REDIRECTS = 5;

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

// Headers describing a body, dropped with it (Fetch, "request-body-header name").
const BODY_HEADERS = [
  "content-encoding",
  "content-language",
  "content-length",
  "content-location",
  "content-type",
];

/** A request on its way: where it goes and how. */
export interface Hop {
  url: URL;
  init: RequestInit;
}

/**
 * Whether `res` is a redirect the client follows: 301, 302, 303, 307 or 308
 * with a `Location`.
 */
export function isRedirect(res: Response): boolean {
  return REDIRECTS.has(res.status) && res.headers.has("location");
}

/**
 * The request that follows redirect `res` (the `hops`-th, from 0) of `from`.
 * 303, and 301 or 302 after a POST, become a GET without body; 307 and 308
 * keep the method and the body. Throws a `permanent` error naming the
 * status and the target's host (never its path or query) when `mode` is
 * `"error"`, past {@linkcode MAX_REDIRECTS}, when the target is not
 * `allowed`, or when the body cannot be sent again.
 */
export function nextHop(
  res: Response,
  from: Hop,
  hops: number,
  mode: RequestRedirect,
  where: string,
  allowed: (url: URL) => boolean,
): Hop {
  let url: URL;
  try {
    url = new URL(utf8(res.headers.get("location")!), from.url);
  } catch {
    throw permanent(`${where}: redirected (${res.status}) to an invalid URL`);
  }
  url.username = url.password = url.hash = "";
  const to = `${res.status} to ${url.host}`;
  if (mode === "error") {
    throw permanent(`${where}: redirected (${to}), and redirect is "error"`);
  }
  if (hops >= MAX_REDIRECTS) {
    throw permanent(
      `${where}: more than ${MAX_REDIRECTS} redirects (the last ${to})`,
    );
  }
  if (!allowed(url)) {
    throw permanent(`${where}: redirected (${to}), outside the base URL`);
  }
  const method = from.init.method ?? "GET";
  if (
    res.status === 303 && method !== "HEAD" ||
    (res.status === 301 || res.status === 302) && method === "POST"
  ) {
    const headers = new Headers(from.init.headers);
    for (const name of BODY_HEADERS) headers.delete(name);
    const { duplex: _, ...init } = from.init as RequestInit & {
      duplex?: string;
    };
    return { url, init: { ...init, method: "GET", headers, body: null } };
  }
  if (!isReplayable(from.init.body)) {
    throw permanent(
      `${where}: redirected (${to}) with a body that cannot be sent again`,
    );
  }
  return { url, init: from.init };
}

/**
 * A header's value read as UTF-8 when its bytes are UTF-8: the runtime
 * gives them one character per byte (Latin-1).
 */
function utf8(value: string): string {
  // deno-lint-ignore no-control-regex
  if (!/[\u0080-\u00ff]/.test(value) || /[^\u0000-\u00ff]/.test(value)) {
    return value;
  }
  const bytes = Uint8Array.from(value, (char) => char.charCodeAt(0));
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return value;
  }
}
