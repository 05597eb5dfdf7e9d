import type { ErrorKind } from "./error.ts";
import { kindOf } from "./predicates.ts";

/**
 * The machine-readable code in an error response body.
 *
 * @example Usage
 * ```ts
 * import type { ErrorCode } from "@cqi/errors";
 *
 * const code: ErrorCode = "NOT_FOUND";
 * ```
 */
export type ErrorCode =
  | "NOT_FOUND"
  | "INVALID_INPUT"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "CONFLICT"
  | "TOO_LARGE"
  | "RATE_LIMITED"
  | "CANCELED"
  | "UNAVAILABLE"
  | "TIMEOUT"
  | "INTERNAL";

/**
 * gRPC status codes, by name, as defined by gRPC.
 *
 * @example Usage
 * ```ts
 * import { GrpcCode } from "@cqi/errors";
 *
 * console.log(GrpcCode.NOT_FOUND); // 5
 * ```
 */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

interface Mapping {
  status: number;
  code: ErrorCode;
  grpc: number;
  /** The public message when no CQI error supplies one. */
  message: string;
}

const MAPPINGS: Record<ErrorKind, Mapping> = {
  not_found: {
    status: 404,
    code: "NOT_FOUND",
    grpc: GrpcCode.NOT_FOUND,
    message: "not found",
  },
  invalid_input: {
    status: 400,
    code: "INVALID_INPUT",
    grpc: GrpcCode.INVALID_ARGUMENT,
    message: "invalid input",
  },
  unauthorized: {
    status: 401,
    code: "UNAUTHORIZED",
    grpc: GrpcCode.UNAUTHENTICATED,
    message: "unauthorized",
  },
  forbidden: {
    status: 403,
    code: "FORBIDDEN",
    grpc: GrpcCode.PERMISSION_DENIED,
    message: "forbidden",
  },
  conflict: {
    status: 409,
    code: "CONFLICT",
    grpc: GrpcCode.ALREADY_EXISTS,
    message: "conflict",
  },
  too_large: {
    status: 413,
    code: "TOO_LARGE",
    grpc: GrpcCode.RESOURCE_EXHAUSTED,
    message: "content too large",
  },
  rate_limited: {
    status: 429,
    code: "RATE_LIMITED",
    grpc: GrpcCode.RESOURCE_EXHAUSTED,
    message: "rate limited",
  },
  // Not an IANA status: nginx's "client closed request". The client is gone
  // and never reads it; it keeps a client's hang-up out of the 5xx counts.
  canceled: {
    status: 499,
    code: "CANCELED",
    grpc: GrpcCode.CANCELLED,
    message: "client closed request",
  },
  temporary: {
    status: 503,
    code: "UNAVAILABLE",
    grpc: GrpcCode.UNAVAILABLE,
    message: "service unavailable",
  },
  timeout: {
    status: 504,
    code: "TIMEOUT",
    grpc: GrpcCode.DEADLINE_EXCEEDED,
    message: "timed out",
  },
  permanent: {
    status: 500,
    code: "INTERNAL",
    grpc: GrpcCode.INTERNAL,
    message: "internal error",
  },
};

/** Looks up the mapping of an error: a kind, or any thrown value. */
export function mappingOf(error: unknown): Mapping {
  return MAPPINGS[kindOf(error) ?? "permanent"];
}

/**
 * The HTTP status for an error: 404, 400, 401, 403, 409, 413, 429, 499 (the
 * client went away), 503, 504, or 500 for `permanent` and for errors without
 * a kind.
 *
 * @example Usage
 * ```ts
 * import { httpStatus, notFound } from "@cqi/errors";
 *
 * console.log(httpStatus(notFound("user", 1))); // 404
 * console.log(httpStatus(new TypeError("oops"))); // 500
 * ```
 *
 * @param error Any thrown value.
 * @returns The status code.
 */
export function httpStatus(error: unknown): number {
  return mappingOf(error).status;
}

/**
 * The gRPC status code for an error: NotFound, InvalidArgument,
 * Unauthenticated, PermissionDenied, AlreadyExists, ResourceExhausted (for
 * `too_large` and `rate_limited`), Cancelled, Unavailable, DeadlineExceeded,
 * or Internal.
 *
 * @example Usage
 * ```ts
 * import { GrpcCode, grpcCode, temporary } from "@cqi/errors";
 *
 * console.log(grpcCode(temporary("down")) === GrpcCode.UNAVAILABLE); // true
 * ```
 *
 * @param error Any thrown value.
 * @returns The numeric gRPC code.
 */
export function grpcCode(error: unknown): number {
  return mappingOf(error).grpc;
}

/**
 * The public body code for an error (`NOT_FOUND`, `INVALID_INPUT`, ...,
 * `INTERNAL` for `permanent` and unknown errors).
 *
 * @example Usage
 * ```ts
 * import { errorCode, timeout } from "@cqi/errors";
 *
 * console.log(errorCode(timeout())); // "TIMEOUT"
 * ```
 *
 * @param error Any thrown value.
 * @returns The code.
 */
export function errorCode(error: unknown): ErrorCode {
  return mappingOf(error).code;
}
