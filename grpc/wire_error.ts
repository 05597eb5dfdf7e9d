import { Code, ConnectError } from "@connectrpc/connect";
import {
  abortedCode,
  abortedError,
  GENERIC_MESSAGE,
  isErrorCode,
  isPrivate,
} from "./call.ts";
import {
  CqiError,
  type ErrorCode,
  type ErrorKind,
  errorResponse,
  grpcCode,
  isCanceled,
  kindOf,
} from "@cqi/errors";

/** The metadata key carrying the CQI error code (`RATE_LIMITED`, ...). */
export const CODE_KEY = "cqi-error-code";

const KIND_OF_CODE: Record<ErrorCode, ErrorKind> = {
  NOT_FOUND: "not_found",
  INVALID_INPUT: "invalid_input",
  UNAUTHORIZED: "unauthorized",
  FORBIDDEN: "forbidden",
  CONFLICT: "conflict",
  TOO_LARGE: "too_large",
  RATE_LIMITED: "rate_limited",
  CANCELED: "canceled",
  UNAVAILABLE: "temporary",
  TIMEOUT: "timeout",
  INTERNAL: "permanent",
};

const KIND_OF_GRPC: Partial<Record<Code, ErrorKind>> = {
  [Code.Canceled]: "canceled",
  [Code.InvalidArgument]: "invalid_input",
  [Code.DeadlineExceeded]: "timeout",
  [Code.NotFound]: "not_found",
  [Code.AlreadyExists]: "conflict",
  [Code.PermissionDenied]: "forbidden",
  [Code.ResourceExhausted]: "rate_limited",
  [Code.FailedPrecondition]: "invalid_input",
  [Code.Aborted]: "conflict",
  [Code.OutOfRange]: "invalid_input",
  [Code.Unavailable]: "temporary",
  [Code.Unauthenticated]: "unauthorized",
};

/**
 * What the client may see of a failure, rebuilt from scratch (never the
 * thrown error's metadata, message or cause): a CQI error's public message
 * and mapped code (its CQI code in `cqi-error-code` metadata, `retry-after`
 * when it has one); a `ConnectError`'s message only when its code is a
 * client-facing one; DEADLINE_EXCEEDED or CANCELLED when the call's signal
 * aborted (deadline, or the client went away) and the failure is an abort
 * (`AbortError`, a cancellation or timeout); `internal error` with code
 * INTERNAL for everything else: an `AbortError` while the call's signal
 * has not aborted, an `Error` thrown after the deadline, an out-of-range
 * code. Reads no property
 * of a value that is not an Error or a CqiError, so a hostile thrown value
 * cannot throw here.
 */
export async function toConnectError(
  error: unknown,
  signal?: AbortSignal,
): Promise<ConnectError> {
  if (signal?.aborted === true && isAbort(error)) return abortedError(signal);
  if (kindOf(error) !== undefined) return await fromCqi(error);
  if (error instanceof ConnectError) {
    if (!isErrorCode(error.code)) {
      return new ConnectError(GENERIC_MESSAGE, Code.Internal);
    }
    if (isPrivate(error.code)) {
      return new ConnectError(GENERIC_MESSAGE, error.code);
    }
    return new ConnectError(error.rawMessage, error.code);
  }
  return new ConnectError(GENERIC_MESSAGE, Code.Internal);
}

async function fromCqi(error: unknown): Promise<ConnectError> {
  // The HTTP mapping decides the public message, as for HTTP clients.
  const res = errorResponse(error);
  const body = await res.json() as { error: string; code: string };
  const metadata = new Headers({ [CODE_KEY]: body.code });
  const retryAfter = res.headers.get("retry-after");
  if (retryAfter !== null) metadata.set("retry-after", retryAfter);
  return new ConnectError(body.error, grpcCode(error) as Code, metadata);
}

// What an aborted call's failure looks like: an AbortError, a CQI or
// Connect cancellation, a Connect deadline.
function isAbort(error: unknown): boolean {
  return error instanceof ConnectError
    ? error.code === Code.Canceled || error.code === Code.DeadlineExceeded
    : error instanceof Error && error.name === "AbortError" ||
      isCanceled(error) || kindOf(error) === "timeout";
}

/**
 * A failed call as the client sees it: a `CqiError` (kind, public message,
 * the `ConnectError` as cause) that Connect also takes for a `ConnectError`
 * (`code`, `metadata`, `details`, `rawMessage`), so Connect's client code
 * passes it through unchanged. Its metadata keeps only a known
 * `cqi-error-code`: the server's other response headers stay out of it.
 */
class CallError extends CqiError {
  override readonly name = "ConnectError";
  readonly code: Code;
  readonly metadata: Headers;
  readonly details: ConnectError["details"];
  readonly rawMessage: string;

  constructor(
    kind: ErrorKind,
    from: ConnectError,
    sent?: ErrorCode,
    retryAfter?: number,
  ) {
    super(kind, from.rawMessage, {
      cause: from,
      ...(retryAfter === undefined ? {} : { retryAfter }),
    });
    this.code = from.code;
    this.metadata = new Headers(sent === undefined ? {} : { [CODE_KEY]: sent });
    this.details = from.details;
    this.rawMessage = from.rawMessage;
  }
}

/** The longest `retry-after` a server may ask of a client: 5 minutes. */
export const MAX_RETRY_AFTER_MS = 300_000;

// Errors of a connection that failed or broke: Node's and Bun's codes.
const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ConnectionRefused",
  "ConnectionClosed",
  "ECONNABORTED",
]);

function isNetwork(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 4) return false;
  const code = (error as { code?: unknown }).code;
  // A redirect (Connect's fetch refuses them) is the server's answer.
  if (code === "UnexpectedRedirect" || /redirect/i.test(error.message)) {
    return false;
  }
  // fetch's network failure; not ours (grpcClientStack's own checks)
  if (error instanceof TypeError) {
    return !error.message.startsWith("grpcClientStack:");
  }
  if (typeof code === "string" && NETWORK.has(code)) return true;
  return isNetwork(error.cause, depth + 1);
}

/**
 * A failure as a client-side `CqiError`: its kind from the server's CQI code
 * when the server sent one, else from the gRPC code (`permanent` for
 * INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS); the message is the server's
 * public one and the `ConnectError` is the cause. A failure that is not a
 * `ConnectError` — or an UNKNOWN one wrapping it — becomes `temporary`
 * (code UNAVAILABLE) when the connection failed (refused, reset, fetch's
 * `TypeError`), else `permanent` (code INTERNAL, `call to
 * {service}/{method} failed`: a body that is no answer, a redirect). `retry-after` is kept in
 * milliseconds when finite and positive, capped at 5 minutes. A `CqiError`
 * passes; so does anything when `signal` (the caller's own) has aborted,
 * unless for its deadline (then kind `timeout`).
 */
export function toCqiError(
  error: unknown,
  signal?: AbortSignal,
  name = "the server",
): unknown {
  if (error instanceof CqiError) return error;
  if (signal?.aborted === true) {
    // The caller's own abort stays as it is; its deadline is a timeout.
    if (abortedCode(signal) !== Code.DeadlineExceeded) return error;
    if (!(error instanceof ConnectError)) {
      return new CallError(
        "timeout",
        new ConnectError(
          "deadline exceeded",
          Code.DeadlineExceeded,
          {},
          [],
          error,
        ),
      );
    }
  }
  if (
    !(error instanceof ConnectError) ||
    error.code === Code.Unknown && error.cause !== undefined
  ) {
    const network = isNetwork(error);
    const from = network
      ? new ConnectError(
        `cannot reach ${name}`,
        Code.Unavailable,
        {},
        [],
        error,
      )
      : new ConnectError(
        `call to ${name} failed`,
        Code.Internal,
        {},
        [],
        error,
      );
    return new CallError(network ? "temporary" : "permanent", from);
  }
  const header = error.metadata.get(CODE_KEY);
  const sent = header !== null && Object.hasOwn(KIND_OF_CODE, header)
    ? header as ErrorCode
    : undefined;
  const kind = (sent === undefined ? undefined : KIND_OF_CODE[sent]) ??
    KIND_OF_GRPC[error.code] ?? "permanent";
  const seconds = Number(error.metadata.get("retry-after") ?? "");
  return new CallError(
    kind,
    error,
    sent,
    seconds > 0 && Number.isFinite(seconds)
      ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS)
      : undefined,
  );
}
