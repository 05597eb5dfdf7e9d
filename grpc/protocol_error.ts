import { Code } from "@connectrpc/connect";
import {
  codeFromHttpStatus,
  codeFromString,
  codeToHttpStatus,
  codeToString,
} from "@connectrpc/connect/protocol-connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { GENERIC_MESSAGE, isErrorCode, isPrivate } from "./call.ts";

/**
 * The code and message a client may see of an error Connect answered
 * with: an out-of-range code becomes INTERNAL; INTERNAL, UNKNOWN and
 * DATA_LOSS lose their message; INTERNAL for a call that never reached
 * the interceptors (Connect could not read the request: `parse binary:
 * premature EOF`, a compressed envelope it cannot decompress) becomes
 * INVALID_ARGUMENT `invalid request`. `undefined` when it may pass.
 */
export function publicError(
  code: unknown,
  reached: boolean,
): { code: Code; message: string } | undefined {
  if (!isErrorCode(code)) {
    return { code: Code.Internal, message: GENERIC_MESSAGE };
  }
  if (code === Code.Internal && !reached) {
    return { code: Code.InvalidArgument, message: "invalid request" };
  }
  return isPrivate(code) ? { code, message: GENERIC_MESSAGE } : undefined;
}

const END_STREAM = 0b10; // Connect's end-of-stream envelope flag
const TRAILER = 0x80; // gRPC-Web's trailer envelope flag

/**
 * Connect's answer with the error it carries made public by
 * {@linkcode publicError}: the JSON body of a Connect unary error (4xx or
 * 5xx), the end-of-stream message of a Connect stream, the trailer frame
 * of gRPC-Web (`grpc-status`, `grpc-message`). `reached` tells whether
 * the call reached the interceptors. Other answers pass unchanged.
 * `onError` gets the code of an error answer once known (at once for an
 * HTTP error status, when the trailers pass for a stream).
 */
export async function filterResponse(
  res: UniversalServerResponse,
  reached: boolean,
  onError: (code: Code) => void = () => {},
): Promise<UniversalServerResponse> {
  const type = res.header?.get("content-type") ?? "";
  if (/^application\/json\b/i.test(type) && res.status >= 400) {
    return await filterUnary(res, reached, onError);
  }
  if (res.status >= 400) onError(codeFromHttpStatus(res.status));
  const flag = /^application\/connect\+/i.test(type)
    ? END_STREAM
    : /^application\/grpc-web/i.test(type)
    ? TRAILER
    : 0;
  if (flag === 0 || res.body === undefined) return res;
  const rewrite = flag === END_STREAM ? endStream : trailer;
  return {
    ...res,
    body: lastFrame(res.body, flag, (b) => rewrite(b, reached, onError)),
  };
}

async function filterUnary(
  res: UniversalServerResponse,
  reached: boolean,
  onError: (code: Code) => void,
): Promise<UniversalServerResponse> {
  const parts: Uint8Array[] = [];
  for await (const part of res.body ?? []) parts.push(part);
  const bytes = concat(parts);
  let body: { code?: unknown; message?: unknown };
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    body = {};
  }
  const code = typeof body?.code === "string"
    ? codeFromString(body.code)
    : undefined;
  const pub = publicError(code, reached);
  onError(pub?.code ?? code ?? codeFromHttpStatus(res.status));
  if (pub === undefined) return { ...res, body: once(bytes) };
  const header = new Headers(res.header);
  header.delete("content-length");
  return {
    ...res,
    status: codeToHttpStatus(pub.code),
    header,
    body: once(new TextEncoder().encode(JSON.stringify({
      code: codeToString(pub.code),
      message: pub.message,
    }))),
  };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

function endStream(
  bytes: Uint8Array,
  reached: boolean,
  onError: (code: Code) => void,
): Uint8Array {
  let end: { error?: { code?: unknown }; metadata?: unknown };
  try {
    end = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return bytes;
  }
  if (end === null || typeof end !== "object" || end.error == null) {
    return bytes;
  }
  const code = typeof end.error.code === "string"
    ? codeFromString(end.error.code)
    : undefined;
  const pub = publicError(code, reached);
  onError(pub?.code ?? code ?? Code.Internal);
  if (pub === undefined) return bytes;
  const error = { code: codeToString(pub.code), message: pub.message };
  return new TextEncoder().encode(JSON.stringify({ ...end, error }));
}

function trailer(
  bytes: Uint8Array,
  reached: boolean,
  onError: (code: Code) => void,
): Uint8Array {
  const lines = new TextDecoder().decode(bytes).split("\r\n");
  const status = lines.find((l) => /^grpc-status:/i.test(l));
  if (status === undefined) return bytes;
  const value = status.slice(status.indexOf(":") + 1).trim();
  const code = /^\d{1,2}$/.test(value) ? Number(value) : undefined;
  if (code === 0) return bytes;
  const pub = publicError(code, reached);
  onError(pub?.code ?? (code as Code));
  if (pub === undefined) return bytes;
  const kept = lines.filter((l) =>
    l !== "" && !/^grpc-(status|message|status-details-bin):/i.test(l)
  );
  return new TextEncoder().encode(
    [
      ...kept,
      `grpc-status: ${pub.code}`,
      `grpc-message: ${encodeURIComponent(pub.message)}`,
      "",
    ].join("\r\n"),
  );
}

// Passes envelopes through as they come, and the one flagged `flag`
// through `rewrite` once whole (it is small: an end-of-stream message or
// trailers). A cut answer passes as it came.
async function* lastFrame(
  body: AsyncIterable<Uint8Array>,
  flag: number,
  rewrite: (bytes: Uint8Array) => Uint8Array,
): AsyncIterable<Uint8Array> {
  let head: Uint8Array = new Uint8Array(0); // an envelope header read so far
  let left = 0; // bytes of the current data envelope still to pass
  let last: Uint8Array | undefined; // the flagged envelope's header
  let kept: Uint8Array[] = [];
  let need = 0;
  for await (const chunk of body) {
    // the common case: whole data envelopes, passed as they are
    let at = 0;
    let pass = 0; // start of the bytes to pass unchanged
    while (at < chunk.length) {
      if (left > 0) {
        const n = Math.min(left, chunk.length - at);
        left -= n;
        at += n;
      } else if (last !== undefined) {
        const n = Math.min(need, chunk.length - at);
        kept.push(chunk.slice(at, at + n));
        need -= n;
        at += n;
        pass = at;
      } else if (head.length === 0 && chunk.length - at >= 5) {
        const size = new DataView(chunk.buffer, chunk.byteOffset + at)
          .getUint32(1);
        if ((chunk[at] & flag) === flag && (chunk[at] & 1) === 0) {
          if (at > pass) yield chunk.subarray(pass, at);
          last = chunk.slice(at, at + 5);
          need = size;
          at += 5;
          pass = at;
        } else {
          left = size;
          at += 5;
        }
      } else {
        // a header split across chunks
        if (at > pass) yield chunk.subarray(pass, at);
        const n = Math.min(5 - head.length, chunk.length - at);
        head = concat([head, chunk.subarray(at, at + n)]);
        at += n;
        pass = at;
        if (head.length < 5) continue;
        const size = new DataView(head.buffer, head.byteOffset).getUint32(1);
        if ((head[0] & flag) === flag && (head[0] & 1) === 0) {
          last = head;
          need = size;
        } else {
          yield head;
          left = size;
        }
        head = new Uint8Array(0);
      }
      if (last !== undefined && need === 0) {
        const out = rewrite(concat(kept));
        const header = new Uint8Array(5);
        header[0] = last[0];
        new DataView(header.buffer).setUint32(1, out.length);
        yield concat([header, out]);
        last = undefined;
        kept = [];
        pass = at;
      }
    }
    if (at > pass) yield chunk.subarray(pass, at);
  }
  if (head.length > 0) yield head;
  if (last !== undefined) yield concat([last, ...kept]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}
