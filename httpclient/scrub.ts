// Errors of the runtime's fetch without the URLs' secrets. Internal.

const URLS = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi;

/** `text` with every URL's query, fragment and credentials removed. */
export function scrubUrls(text: string): string {
  return text.replace(
    URLS,
    (url) =>
      // the query runs to a space, a closing mark, or a ": " after it
      url.replace(/[?#](?:[^\s)"'<>\]:]|:(?!\s|$))*/g, "").replace(
        /^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i,
        "$1",
      ),
  );
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
