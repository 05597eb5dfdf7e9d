import type {
  Interceptor,
  StreamResponse,
  UnaryResponse,
} from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { context } from "@opentelemetry/api";
import { GrpcCode, grpcCode, kindOf } from "@cqi/errors";

/** What an interceptor's `next` takes (a Connect request, unary or stream). */
export type Call = Parameters<Parameters<Interceptor>[0]>[0];
/** What an interceptor's `next` resolves to. */
export type CallResponse = UnaryResponse | StreamResponse;

const NAMES: readonly string[] = Object.keys(GrpcCode);

/** The status name of a numeric gRPC code (`NOT_FOUND`), `UNKNOWN` else. */
export function codeName(code: number): string {
  return NAMES[code] ?? "UNKNOWN";
}

/** What a client is told of a failure that is the server's own. */
export const GENERIC_MESSAGE = "internal error";

// Codes whose message may describe the server's internals.
const PRIVATE: ReadonlySet<number> = new Set([
  Code.Unknown,
  Code.Internal,
  Code.DataLoss,
]);

/** Whether a code's message may describe the server's internals. */
export function isPrivate(code: number): boolean {
  return PRIVATE.has(code);
}

/** Whether `code` is a gRPC error code a client may be sent (1 to 16). */
export function isErrorCode(code: unknown): code is Code {
  return Number.isInteger(code) && (code as number) >= 1 &&
    (code as number) <= 16;
}

/**
 * Why an aborted call ended: Connect aborts a call's signal with a
 * `ConnectError` for its own reasons (DEADLINE_EXCEEDED for the deadline,
 * INTERNAL when it could not serialize a stream's message): that code;
 * CANCELLED when the client went away.
 */
export function abortedCode(signal: AbortSignal): Code {
  const reason: unknown = signal.reason;
  return reason instanceof ConnectError && isErrorCode(reason.code)
    ? reason.code
    : Code.Canceled;
}

/** The failure an aborted call ends with, by {@linkcode abortedCode}. */
export function abortedError(signal: AbortSignal): ConnectError {
  const code = abortedCode(signal);
  return code === Code.DeadlineExceeded
    ? new ConnectError("deadline exceeded", code)
    : code === Code.Canceled
    ? new ConnectError("client closed request", code)
    : new ConnectError(GENERIC_MESSAGE, code);
}

/**
 * The gRPC code a failure ends the call with, as Connect would send it: a
 * `ConnectError`'s own code (INTERNAL when out of range), the mapped code
 * of a CQI error, CANCELLED or DEADLINE_EXCEEDED for an aborted call,
 * INTERNAL for anything else.
 */
export function codeOf(error: unknown, signal?: AbortSignal): number {
  if (error instanceof ConnectError) {
    return isErrorCode(error.code) ? error.code : Code.Internal;
  }
  if (kindOf(error) !== undefined) return grpcCode(error);
  if (signal?.aborted === true) return abortedCode(signal);
  return Code.Internal;
}

/** `pkg.Service` and `Method` of a call. */
export function callName(req: Call): { service: string; method: string } {
  return { service: req.service.typeName, method: req.method.name };
}

/**
 * Runs `next(req)` and calls `end` once when the call is over: when a unary
 * response resolves or rejects, when a response stream finishes, fails or
 * is abandoned, or when the call's signal aborts (a unary call whose
 * signal aborted before its response ends CANCELLED or DEADLINE_EXCEEDED). `map` replaces a failure
 * (before or during the stream) by what the caller sees. A response stream
 * is pulled in the async context that was active here, so what the handler
 * reads there (the caller, the span, the logger) is the call's.
 */
export function observe(
  req: Call,
  next: (req: Call) => Promise<CallResponse>,
  end: (error: unknown) => void,
  map: (error: unknown) => unknown = (error) => error,
): Promise<CallResponse> {
  // `map` may answer with a promise: the failure is what it resolves to.
  let ended = false;
  const ctx = context.active();
  // `end` runs in the call's context, whoever ends the call.
  const once = (error: unknown) => {
    if (ended) return;
    ended = true;
    req.signal.removeEventListener("abort", onAbort);
    context.with(ctx, end, undefined, error);
  };
  const onAbort = () => once(abortedError(req.signal));
  let res: Promise<CallResponse>;
  try {
    res = next(req);
  } catch (error) {
    res = Promise.reject(error);
  }
  return res.then((r) => {
    if (!r.stream) {
      // A unary call the client abandoned before its answer is not OK.
      once(req.signal.aborted ? abortedError(req.signal) : undefined);
      return r;
    }
    if (req.signal.aborted) onAbort();
    else req.signal.addEventListener("abort", onAbort, { once: true });
    return { ...r, message: pull(r.message, ctx, once, map) };
  }, (error) => fail(error, map, once));
}

async function fail(
  error: unknown,
  map: (error: unknown) => unknown,
  end: (error: unknown) => void,
): Promise<never> {
  const mapped = await map(error);
  end(mapped);
  throw mapped;
}

function pull<T>(
  source: AsyncIterable<T>,
  ctx: ReturnType<typeof context.active>,
  end: (error: unknown) => void,
  map: (error: unknown) => unknown,
): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const it = context.with(ctx, () => source[Symbol.asyncIterator]());
      const settle = (
        step: () => Promise<IteratorResult<T>>,
      ): Promise<IteratorResult<T>> => {
        let pending: Promise<IteratorResult<T>>;
        try {
          pending = step();
        } catch (error) {
          pending = Promise.reject(error);
        }
        return pending.then((result) => {
          if (result.done === true) end(undefined);
          return result;
        }, (error) => fail(error, map, end));
      };
      const inCall = (
        step: () => Promise<IteratorResult<T>>,
      ): Promise<IteratorResult<T>> =>
        context.with(ctx, settle, undefined, step);
      return {
        next: (...args: [] | [undefined]) => inCall(() => it.next(...args)),
        return: (value?: unknown) =>
          inCall(() =>
            it.return?.(value as T) ??
              Promise.resolve({ done: true, value: value as T })
          ),
        throw: (error?: unknown) =>
          inCall(() => it.throw?.(error) ?? Promise.reject(error)),
      };
    },
  };
}

const requests = new WeakMap<Call, Request>();

/**
 * The call as a fetch `Request` (POST to its URL, with its metadata as
 * headers), for the HTTP middleware the interceptors reuse; one per call.
 */
export function requestOf(req: Call): Request {
  let request = requests.get(req);
  if (request === undefined) {
    // A relative or broken URL (Bun's, for a bad Host header) still makes one.
    const url = URL.parse(req.url, "http://localhost") ??
      new URL(`http://localhost/${req.service.typeName}/${req.method.name}`);
    request = new Request(url, { method: "POST", headers: req.header });
    requests.set(req, request);
  }
  return request;
}
