// What `serve` accepts as the authority of a request: `host[:port]` by
// RFC 9110 §7.2 and RFC 3986 §3.2.2, and nothing the WHATWG URL parser would
// refuse, so that `new URL(req.url)` never throws in a handler.

// A registered name (unreserved and sub-delims; no percent-encoding, which no
// DNS name needs), then an optional port.
const NAME = /^[A-Za-z0-9\-._~!$&'()*+,;=]+(?::[0-9]{1,5})?$/;
// A name whose last label is all letters (and digits, hyphens after the
// first letter) parses as a domain: the common case, decided by this alone.
const DOMAIN =
  /^(?:[A-Za-z0-9\-_~!$&'()*+,;=]+\.)*[A-Za-z][A-Za-z0-9\-]*\.?(?::[0-9]{1,5})?$/;
// An IP literal: a bracketed IPv6 address (checked further by the parser).
const IP_LITERAL = /^\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?$/;
// A dotted-decimal IPv4 address (a trailing dot allowed), then a port.
const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.?(?::[0-9]{1,5})?$/;

/**
 * Whether `host` is a valid `Host` header value or URL authority:
 * `host[:port]` with a registered name, a dotted-decimal IPv4 address or a
 * bracketed IPv6 address, and a port up to 65535. Anything else — a path,
 * `?`, `#`, `@`, `\`, whitespace, controls, percent-encoding, non-ASCII, an
 * empty value — is refused. Internal to `serve`.
 */
export function isValidHost(host: string): boolean {
  if (host.length === 0 || host.length > 1024) return false;
  if (IPV4.test(host)) return validPort(host);
  if (DOMAIN.test(host)) {
    // A punycode label ("xn--…") must decode: the parser checks that.
    return validPort(host) &&
      (!/xn--/i.test(host) || URL.canParse(`http://${host}/`));
  }
  if (IP_LITERAL.test(host)) {
    return validPort(host) && URL.canParse(`http://${host}/`);
  }
  if (!NAME.test(host)) return false;
  // A name ending in a number is an IPv4 address to the URL parser, and the
  // dotted-decimal form was accepted above: refuse the rest (the parser's
  // hex and short forms differ between readers, `1.2.3.999` fails).
  const colon = host.indexOf(":");
  const name = colon < 0 ? host : host.slice(0, colon);
  const labels = (name.endsWith(".") ? name.slice(0, -1) : name).split(".");
  if (/^(?:0[xX][0-9A-Fa-f]*|[0-9]+)$/.test(labels[labels.length - 1])) {
    return false;
  }
  return validPort(host) && URL.canParse(`http://${host}/`);
}

function validPort(host: string): boolean {
  const colon = host.lastIndexOf(":");
  if (colon < 0 || host.endsWith("]")) return true;
  return Number(host.slice(colon + 1)) <= 65535;
}

// The last Host header found valid: a server's clients almost always send
// the same one, so the check is one string comparison. One entry, so a
// client that varies its Host costs only the full check.
let lastValidHost: string | undefined;

/**
 * Whether a request's URL and `Host` header name a valid authority (see
 * {@linkcode isValidHost}) and the URL is `http:` or `https:`. The URL's
 * authority is what Deno built from the `Host` header (or took from an
 * absolute-form request target, or from HTTP/2's `:authority`); Bun gives a
 * relative URL when it found the `Host` header unusable. A request without a
 * `Host` header (HTTP/2, HTTP/1.0) is judged by the URL's authority alone:
 * on Deno that is `:authority` or the listening address, and Bun gives no
 * absolute URL for it (400). Internal to `serve`.
 */
export function hasValidAuthority(req: Request): boolean {
  const url = req.url;
  const start = url.startsWith("http://")
    ? 7
    : url.startsWith("https://")
    ? 8
    : -1;
  if (start < 0) return false;
  const host = req.headers.get("host");
  if (host !== null && host !== lastValidHost) {
    if (!isValidHost(host)) return false;
    lastValidHost = host;
  }
  // The URL was built from this very Host header: nothing more to check.
  if (
    host !== null &&
    url.startsWith(host, start) && url.charCodeAt(start + host.length) === 47
  ) {
    return true;
  }
  // An absolute-form target (Deno), or a host the runtime rewrote (Bun).
  const end = url.indexOf("/", start);
  return end >= 0 && isValidHost(url.slice(start, end));
}
