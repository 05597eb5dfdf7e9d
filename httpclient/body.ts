// Reading a response body under the call's signal. Internal.
import { CqiError, permanent, temporary } from "@cqi/errors";

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
  return temporary(`${where}: the response body broke off`, { cause });
}

/** Reads the whole body, at most `maxBytes`, failing as `bodyFailure` says. */
export async function readBytes(
  res: Response,
  maxBytes: number,
  where: string,
  signal: AbortSignal,
): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0);
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await res.body.cancel().catch(() => {});
    throw tooBig(where, maxBytes);
  }
  if (declared >= 0) {
    // The runtime holds the body to its declared length: the fast path.
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch (error) {
      throw bodyFailure(where, signal, error);
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
  return permanent(`${where}: the response is larger than ${maxBytes} bytes`);
}
