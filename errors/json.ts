import { canceled, invalidInput, permanent, tooLarge } from "./constructors.ts";
import { CqiError } from "./error.ts";
import { schemaError } from "./schema_error.ts";
import type { StandardSchemaV1 } from "./standard_schema.ts";

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
 * Reads a request body as JSON and, given a schema, validates it. Every way
 * the body can fail is the client's doing and maps to a 4xx, never to a 500:
 *
 * - missing, not UTF-8, not valid JSON, or a stream the runtime could not
 *   parse (a broken chunked encoding): `invalid_input` (400), saying which;
 * - over `maxBytes`, by its `content-length` or as it streams in:
 *   `too_large` (413);
 * - cut off because the client closed the connection mid-body: `canceled`
 *   (499), so a hang-up is neither logged nor counted as a server error;
 * - rejected by the schema: `invalid_input` (400) whose message names every
 *   bad field (`invalid request body: assetId, quantity`) and whose `fields`
 *   map each field's dot path (`items.0.sku`; `(body)` for the body itself)
 *   to the schema's message, or to `is required` for a missing key.
 *
 * The runtime's own error (a `SyntaxError`, Deno's `BadResource`, Bun's
 * `AbortError`) is kept as the `cause`, for logs only. The schema is any
 * Standard Schema v1 (valibot, zod, ArkType, ...); its `validate` may be
 * asynchronous. Its issues, which may carry the input, are not kept: the
 * message holds only field paths (or, for a body of the wrong shape, the
 * schema's message for it), a field's message has the value it was given
 * cut out where it quotes it (as valibot's default `received "..."` does),
 * and at most 20 fields are listed.
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
export function readJson(
  req: Request,
  options?: ReadJsonOptions,
): Promise<unknown>;
/**
 * Reads a request body as JSON and validates it with a Standard Schema,
 * returning the schema's typed output or throwing `invalid_input` (400)
 * that names every bad field (see the overload without a schema).
 *
 * @example Usage
 * ```ts
 * import * as v from "valibot";
 * import { CqiError, readJson } from "@cqi/errors";
 *
 * const Position = v.object({
 *   assetId: v.pipe(v.string("must be a string"), v.nonEmpty("must not be empty")),
 *   quantity: v.number("must be a number"),
 * }, "must be a JSON object");
 * const put = (body: string) =>
 *   new Request("http://localhost/", { method: "PUT", body });
 *
 * const position = await readJson(put('{"assetId":"BTC","quantity":2}'), Position);
 * console.log(position.quantity * 2); // 4
 * try {
 *   await readJson(put('{"quantity":"ten"}'), Position);
 * } catch (error) {
 *   if (!(error instanceof CqiError)) throw error;
 *   console.log(error.message); // "invalid request body: assetId, quantity"
 *   console.log(error.fields); // { assetId: "is required", quantity: "must be a number" }
 * }
 * ```
 *
 * @typeParam S The schema.
 * @param req The request.
 * @param schema Any Standard Schema v1.
 * @param options The size limit.
 * @returns The validated body.
 */
export function readJson<S extends StandardSchemaV1>(
  req: Request,
  schema: S,
  options?: ReadJsonOptions,
): Promise<StandardSchemaV1.InferOutput<S>>;
export async function readJson(
  req: Request,
  schemaOrOptions?: StandardSchemaV1 | ReadJsonOptions,
  options?: ReadJsonOptions,
): Promise<unknown> {
  if (isSchema(schemaOrOptions)) {
    const body = await readBody(req, options ?? {});
    const result = await schemaOrOptions["~standard"].validate(body);
    if (result.issues === undefined) return result.value;
    throw schemaError("request body", result.issues, body, {
      root: "(body)",
      messages: true,
    });
  }
  return readBody(req, schemaOrOptions ?? {});
}

function isSchema(
  value: StandardSchemaV1 | ReadJsonOptions | undefined,
): value is StandardSchemaV1 {
  return (typeof value === "object" || typeof value === "function") &&
    value !== null && "~standard" in value;
}

async function readBody(
  req: Request,
  options: ReadJsonOptions,
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
