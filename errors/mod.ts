/**
 * Typed errors for CQI services: one {@linkcode CqiError} class with a
 * {@linkcode ErrorKind}, constructors for each kind, predicates that walk
 * cause chains, the HTTP and gRPC mapping, and the {@linkcode recovery}
 * middleware that answers `{"error","code"}` without ever leaking a cause or
 * a stack.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware, router } from "@cqi/http";
 * import { notFound, readJson, recovery } from "@cqi/errors";
 *
 * const app = router({
 *   "GET /orders/:id": (_req, { id }) => {
 *     throw notFound("order", id);
 *   },
 *   "POST /orders": async (req) => Response.json(await readJson(req)),
 * });
 * const handler = applyMiddleware(app, recovery());
 * const res = await handler(new Request("http://localhost/orders/9"));
 * console.log(res.status, await res.json());
 * // 404 { error: 'order "9" not found', code: "NOT_FOUND" }
 * ```
 *
 * @module
 */
export { CqiError, type CqiErrorOptions, type ErrorKind } from "./error.ts";
export {
  canceled,
  conflict,
  forbidden,
  invalidInput,
  notFound,
  permanent,
  rateLimited,
  temporary,
  timeout,
  tooLarge,
  unauthorized,
  wrap,
} from "./constructors.ts";
export {
  hasKind,
  isCanceled,
  isConflict,
  isForbidden,
  isInvalidInput,
  isNotFound,
  isPermanent,
  isRateLimited,
  isTemporary,
  isTimeout,
  isTooLarge,
  isUnauthorized,
  kindOf,
} from "./predicates.ts";
export {
  type ErrorCode,
  errorCode,
  GrpcCode,
  grpcCode,
  httpStatus,
} from "./mapping.ts";
export { type ErrorBody, errorResponse } from "./response.ts";
export {
  type RecoveredError,
  recovery,
  type RecoveryOptions,
} from "./recovery.ts";
export { readJson, type ReadJsonOptions } from "./json.ts";
export type { StandardSchemaV1 } from "./standard_schema.ts";
export { schemaError, type SchemaErrorOptions } from "./schema_error.ts";
