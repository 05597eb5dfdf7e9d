import { canceled, invalidInput, permanent, tooLarge } from "./constructors.ts";
import { CqiError } from "./error.ts";

/**
 * Options for {@linkcode readJson}.
 *
 * @example Usage
 * ```ts
 * import type { ReadJsonOptions } from "@cqi/errors";
 *
 * const options: ReadJsonOptions = { maxBytes: 64 * 1024 };
 * ```
 */
export interface ReadJsonOptions {
  /** Largest body accepted, in bytes. Default 1 MiB. */
  maxBytes?: number;
}

/**
 * Reads a request body as JSON. Every way the body can fail is the client's
 * doing and maps to a 4xx, never to a 500:
 *
 * - missing, not UTF-8, not valid JSON, or a stream the runtime could not
 *   parse (a broken chunked encoding): `invalid_input` (400), saying which;
 * - over `maxBytes`, by its `content-length` or as it streams in:
 *   `too_large` (413);
 * - cut off because the client closed the connection mid-body: `canceled`
 *   (499), so a hang-up is neither logged nor counted as a server error.
 *
 * The runtime's own error (a `SyntaxError`, Deno's `BadResource`, Bun's
 * `AbortError`) is kept as the `cause`, for logs only.
 *
 * @example Usage
 * ```ts
 * import { readJson } from "@cqi/errors";
 *
 * const req = new Request("http://localhost/", {
 *   method: "PUT",
 *   body: '{"quantity": 3}',
 * });
 * console.log(await readJson(req)); // { quantity: 3 }
 * ```
 *
 * @param req The request.
 * @param options The size limit.
 * @returns The parsed body.
 */
export async function readJson(
  req: Request,
  options: ReadJsonOptions = {},
): Promise<unknown> {
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  if (!(maxBytes >= 0)) {
    throw new RangeError(`readJson: maxBytes must be >= 0, got ${maxBytes}`);
  }
  if (req.bodyUsed) {
    throw permanent("readJson: the request body was already read");
  }
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) throw overLimit(maxBytes);
  if (req.body === null) throw invalidInput("request body is empty");
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (cause) {
      throw unreadable(cause);
    }
    if (chunk.done) break;
    size += chunk.value.byteLength;
    if (size > maxBytes) {
      // rejects when the stream has failed since (the client left): moot
      await reader.cancel().catch(() => {});
      throw overLimit(maxBytes);
    }
    chunks.push(chunk.value);
  }
  if (size === 0) throw invalidInput("request body is empty");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(
      concat(chunks, size),
    );
  } catch (cause) {
    throw invalidInput("request body is not valid UTF-8", { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw invalidInput("request body is not valid JSON", { cause });
  }
}

function overLimit(maxBytes: number): CqiError {
  return tooLarge(`request body is larger than ${maxBytes} bytes`);
}

// What a body stream throws when the client hangs up mid-body, by name (the
// classes are per runtime). Measured with a raw socket (json_test.ts):
// Deno 2.9 throws `BadResource` ("Cannot read request body as underlying
// resource unavailable"); Bun 1.4 a DOMException `AbortError` ("The
// connection was closed."), also for a broken chunked encoding, after
// which Bun closes the connection itself. The others are Deno's names for a
// connection dropped at the socket.
const CLIENT_GONE: ReadonlySet<unknown> = new Set([
  "AbortError",
  "BadResource",
  "ConnectionReset",
  "ConnectionAborted",
  "BrokenPipe",
  "UnexpectedEof",
]);

// The request's `signal` is not consulted: Deno has not aborted it yet when
// the read fails, Bun's error already says as much, and reading it at all
// makes Deno 2.9 warn about its legacy abort once the response is sent.

/** Maps a failed read of the body stream to the client's fault. */
function unreadable(cause: unknown): CqiError {
  // a stream that already speaks CQI (a middleware's own limit) keeps its kind
  if (cause instanceof CqiError) return cause;
  if (CLIENT_GONE.has((cause as { name?: unknown } | null)?.name)) {
    return canceled("the client closed the connection mid-body", { cause });
  }
  // Anything else the runtime failed to parse — Deno 2.9 rejects a broken
  // chunked encoding with a plain Error "invalid HTTP/1 request: …" — is the
  // client's malformed body; the cause is logged should it be anything else.
  return invalidInput("request body could not be read", { cause });
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
