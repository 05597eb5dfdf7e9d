import { invalidInput, permanent } from "./constructors.ts";

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
 * Reads a request body as JSON. A body that is missing, too large, not
 * UTF-8, or not valid JSON is an `invalid_input` error (400) that says which,
 * rather than a `SyntaxError` that would answer 500.
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
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (req.body === null) throw invalidInput("request body is empty");
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
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

function tooLarge(maxBytes: number) {
  return invalidInput(`request body is larger than ${maxBytes} bytes`);
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
