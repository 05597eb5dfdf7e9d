// Reading a response body under the call's signal. Internal.
import { CqiError, temporary, tooLarge } from "@cqi/errors";
import { scrubbed } from "./scrub.ts";

/**
 * What a failed body read becomes: the signal's reason when it aborted (a
 * timeout, a close, the caller's abort), else a `temporary` error naming
 * the request (the connection broke mid-body).
 */
export function bodyFailure(
  where: string,
  signal: AbortSignal,
  cause: unknown,
): unknown {
  if (signal.aborted) return signal.reason;
  return temporary(`${where}: the response body broke off`, {
    cause: scrubbed(cause),
  });
}

/**
 * Reads the whole body, at most `maxBytes` once decoded (a `too_large`
 * error beyond, the body cancelled), failing as `bodyFailure` says.
 */
export async function readBytes(
  res: Response,
  maxBytes: number,
  where: string,
  signal: AbortSignal,
): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0);
  // The declared length counts encoded bytes: it only says "too large" for
  // a body sent as is. The decoded bytes are counted as they come.
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (!res.headers.has("content-encoding")) {
    if (declared > maxBytes) {
      await res.body.cancel().catch(() => {});
      throw tooBig(where, maxBytes);
    }
    // Sent as is with its length: the runtime reads exactly that many bytes
    // (at half the cost of a reader on Deno).
    if (declared >= 0) {
      try {
        const bytes = new Uint8Array(await res.arrayBuffer());
        signal.throwIfAborted();
        return bytes;
      } catch (error) {
        throw bodyFailure(where, signal, error);
      }
    }
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      signal.throwIfAborted(); // whatever is still buffered
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw tooBig(where, maxBytes);
      chunks.push(value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    if (error instanceof CqiError) throw error;
    throw bodyFailure(where, signal, error);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

function tooBig(where: string, maxBytes: number) {
  return tooLarge(`${where}: the response is larger than ${maxBytes} bytes`);
}

/**
 * Whether `body` can be sent again as it was (a retry, a 307 or 308): a
 * string, bytes, a `Blob`, `FormData`, `URLSearchParams` or none. Anything
 * else (a stream, an async iterable, a Node `Readable`) is read once.
 */
export function isReplayable(body: unknown): boolean {
  return body === null || body === undefined || typeof body === "string" ||
    body instanceof ArrayBuffer || ArrayBuffer.isView(body) ||
    body instanceof Blob || body instanceof FormData ||
    body instanceof URLSearchParams;
}
