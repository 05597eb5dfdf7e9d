// Errors of the runtime's fetch without the URLs' secrets. Internal.

/**
 * `text` with every URL's query, fragment and credentials removed: from a
 * `?` or `#` to the next whitespace goes (a closing mark right after a URL
 * too), and a user name and password. Linear in the text's length: it
 * looks for `://` and scans by hand, never backtracking.
 */
export function scrubUrls(text: string): string {
  let out = "";
  let done = 0;
  for (let at = text.indexOf("://"); at !== -1; at = text.indexOf("://", at)) {
    // the scheme: a letter, then letters, digits, "+", "-", "."
    let start = at;
    while (start > done && isSchemeChar(text.charCodeAt(start - 1))) start--;
    while (start < at && !isLetter(text.charCodeAt(start))) start++;
    if (start === at) {
      at += 3;
      continue;
    }
    const end = nextSpace(text, at + 3);
    const rest = text.slice(at + 3, end);
    const cut = rest.search(/[?#]/);
    const kept = cut === -1 ? rest : rest.slice(0, cut);
    // the authority ends at the path; its last "@" ends the credentials
    const slash = kept.indexOf("/");
    const authority = slash === -1 ? kept : kept.slice(0, slash);
    const credentials = authority.lastIndexOf("@") + 1;
    out += text.slice(done, at + 3) + kept.slice(credentials);
    done = at = end;
  }
  return out + text.slice(done);
}

const SPACE = /\s/g;

/** The index of the first whitespace at or after `from`, or the length. */
function nextSpace(text: string, from: number): number {
  SPACE.lastIndex = from;
  return SPACE.exec(text)?.index ?? text.length;
}

function isLetter(code: number): boolean {
  return (code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a;
}

function isSchemeChar(code: number): boolean {
  return isLetter(code) || code >= 0x30 && code <= 0x39 || code === 0x2b ||
    code === 0x2d || code === 0x2e;
}

/**
 * A stand-in for an error of the runtime, whose message, properties (Bun's
 * `path`) or causes may hold the full URL: an `Error` of the same name and
 * `code`, without a cause, whose message is the messages of the error and
 * its first causes (Deno's "fetch failed" says why in its cause), each
 * scrubbed.
 */
export function scrubbed(error: unknown): Error {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined; depth++) {
    messages.push(
      scrubUrls(current instanceof Error ? current.message : String(current)),
    );
    current = current instanceof Error ? current.cause : undefined;
  }
  const clean = new Error(messages.join(": "));
  clean.name = error instanceof Error ? error.name : "Error";
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    (clean as Error & { code?: string }).code = scrubUrls(code);
  }
  return clean;
}
