// Maps an HTTP answer to a CQI error. Internal.
import { CqiError, type ErrorKind } from "@cqi/errors";

/** The statuses worth another attempt. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([
  429,
  502,
  503,
  504,
]);

/** Longest excerpt of an error body kept in the cause, in characters. */
export const EXCERPT_CHARS = 256;

/**
 * The error of an answer with status >= 400 to `where` (`GET host/path`).
 * The message names the method, host, path and status (it may reach a
 * client); the cause keeps at most {@linkcode EXCERPT_CHARS} characters of
 * the body (it reaches logs only).
 */
export function statusError(
  where: string,
  status: number,
  excerpt: string,
  retryAfter: number | undefined,
): CqiError {
  const message = `${where} answered ${status}`;
  const cause = new Error(
    excerpt === ""
      ? `status ${status}, empty body`
      : `status ${status}, body: ${excerpt}`,
  );
  cause.name = "HttpStatus";
  return new CqiError(kindOfStatus(status), message, {
    cause,
    ...(retryAfter !== undefined && (status === 429 || status === 503) &&
      { retryAfter }),
  });
}

const KINDS: Readonly<Record<number, ErrorKind>> = {
  400: "invalid_input",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  408: "timeout",
  409: "conflict",
  410: "not_found",
  413: "too_large",
  422: "invalid_input",
  429: "rate_limited",
  501: "permanent",
  504: "timeout",
};

/** The kind of a status >= 400: other 5xx are `temporary`, other 4xx `permanent`. */
export function kindOfStatus(status: number): ErrorKind {
  return KINDS[status] ?? (status >= 500 ? "temporary" : "permanent");
}

/** Reads at most `chars` characters of a body, then cancels the rest. */
export async function excerptOf(
  res: Response,
  chars: number = EXCERPT_CHARS,
): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    // 4 bytes per character at most
    while (text.length < chars) {
      const { done, value } = await reader.read();
      if (done) return clean(text + decoder.decode(), chars);
      text += decoder.decode(value, { stream: true });
      if (text.length > chars * 4) break;
    }
  } catch {
    // a body that fails mid-way: keep what came
  } finally {
    reader.cancel().catch(() => {});
  }
  return clean(text, chars);
}

function clean(text: string, chars: number): string {
  // deno-lint-ignore no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return flat.length <= chars ? flat : `${flat.slice(0, chars - 1)}…`;
}
