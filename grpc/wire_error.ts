import { Code, ConnectError } from "@connectrpc/connect";
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

const GENERIC = "internal error";

// Codes whose message may describe the server's internals.
const PRIVATE: ReadonlySet<Code> = new Set([
  Code.Unknown,
  Code.Internal,
  Code.DataLoss,
]);

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
 * What the client may see of a failure: a CQI error's public message and
 * mapped code (its CQI code in metadata), a client-facing `ConnectError`
 * as it is, and `internal error` with code INTERNAL for everything else
 * (never a message, stack or cause). Reads no property of a value that is
 * not an Error or a CqiError, so a hostile thrown value cannot throw here.
 */
export async function toConnectError(
  error: unknown,
  signal?: AbortSignal,
): Promise<ConnectError> {
  if (error instanceof ConnectError) {
    if (!PRIVATE.has(error.code)) return error;
    return new ConnectError(GENERIC, error.code);
  }
  if (kindOf(error) === undefined) {
    if (signal?.aborted === true || isAbort(error)) {
      return new ConnectError("client closed request", Code.Canceled);
    }
    return new ConnectError(GENERIC, Code.Internal);
  }
  // The HTTP mapping decides the public message, as for HTTP clients.
  const res = errorResponse(error);
  const body = await res.json() as { error: string; code: string };
  const metadata = new Headers({ [CODE_KEY]: body.code });
  const retryAfter = res.headers.get("retry-after");
  if (retryAfter !== null) metadata.set("retry-after", retryAfter);
  return new ConnectError(body.error, grpcCode(error) as Code, metadata);
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError" ||
    isCanceled(error);
}

/**
 * A failed call as the client sees it: a `CqiError` (kind, public message,
 * the `ConnectError` as cause) that Connect also takes for a `ConnectError`
 * (`code`, `metadata`, `details`, `rawMessage`), so Connect's client code
 * passes it through unchanged.
 */
class CallError extends CqiError {
  override readonly name = "ConnectError";
  readonly code: Code;
  readonly metadata: Headers;
  readonly details: ConnectError["details"];
  readonly rawMessage: string;

  constructor(kind: ErrorKind, from: ConnectError, retryAfter?: number) {
    super(kind, from.rawMessage, {
      cause: from,
      ...(retryAfter === undefined ? {} : { retryAfter }),
    });
    this.code = from.code;
    this.metadata = from.metadata;
    this.details = from.details;
    this.rawMessage = from.rawMessage;
  }
}

/**
 * A failure as a client-side `CqiError`: its kind from the server's CQI code
 * when the server sent one, else from the gRPC code (`permanent` for
 * INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS); the message is the server's
 * public one and the `ConnectError` is the cause. Anything else passes.
 */
export function toCqiError(error: unknown): unknown {
  if (!(error instanceof ConnectError) || error instanceof CqiError) {
    return error;
  }
  const sent = error.metadata.get(CODE_KEY);
  const kind =
    (sent !== null && Object.hasOwn(KIND_OF_CODE, sent)
      ? KIND_OF_CODE[sent as ErrorCode]
      : undefined) ?? KIND_OF_GRPC[error.code] ?? "permanent";
  const seconds = Number(error.metadata.get("retry-after") ?? "");
  return new CallError(
    kind,
    error,
    seconds > 0 && Number.isFinite(seconds) ? seconds * 1000 : undefined,
  );
}
