// Telling a network failure from a request fetch refuses. Internal.

// Codes of a connection that failed (Bun, Node and undici).
const NETWORK_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ConnectionRefused",
  "ConnectionClosed",
  "ConnectionReset",
  "FailedToOpenSocket",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

// Messages of a connection that failed: Deno's "error sending request ...",
// and the words of the causes beneath.
const NETWORK_MESSAGE =
  /error sending request|connect|connection|dns|lookup|timed? ?out|reset|refused|broken pipe|network|socket|unreachable|unexpected eof/i;

const INVALID_URL = /invalid url|url is invalid|ERR_INVALID_URL/i;

/**
 * What a rejection of `fetch` says: `"network"` when the connection failed
 * (refused, reset, timed out, a name not found), worth another attempt;
 * `"url"` when the URL is one fetch refuses; `"refused"` for anything else
 * fetch refuses to send (a blocked port, say), which no attempt changes.
 * Only the error's name, code and messages count, without their URLs.
 */
export function failureOf(error: unknown): "network" | "url" | "refused" {
  let current: unknown = error;
  let network = false;
  for (let depth = 0; depth < 4 && current != null; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    const text = withoutUrls(String(message ?? current));
    if (INVALID_URL.test(text) || code === "ERR_INVALID_URL") return "url";
    if (typeof code === "string" && NETWORK_CODES.has(code)) network = true;
    if (NETWORK_MESSAGE.test(text)) network = true;
    current = (current as { cause?: unknown }).cause;
  }
  return network ? "network" : "refused";
}

/** `text` without its words holding "://", whose path could say anything. */
function withoutUrls(text: string): string {
  return text.split(/\s+/).filter((word) => !word.includes("://")).join(" ");
}
