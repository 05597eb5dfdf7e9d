import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  canceled,
  conflict,
  errorCode,
  forbidden,
  GrpcCode,
  grpcCode,
  httpStatus,
  invalidInput,
  notFound,
  permanent,
  rateLimited,
  temporary,
  timeout,
  tooLarge,
  unauthorized,
} from "./mod.ts";

describe("mapping", () => {
  const table: Array<[unknown, number, string, number]> = [
    [notFound("x"), 404, "NOT_FOUND", GrpcCode.NOT_FOUND],
    [invalidInput("x"), 400, "INVALID_INPUT", GrpcCode.INVALID_ARGUMENT],
    [unauthorized(), 401, "UNAUTHORIZED", GrpcCode.UNAUTHENTICATED],
    [forbidden(), 403, "FORBIDDEN", GrpcCode.PERMISSION_DENIED],
    [conflict("x"), 409, "CONFLICT", GrpcCode.ALREADY_EXISTS],
    [tooLarge(), 413, "TOO_LARGE", GrpcCode.RESOURCE_EXHAUSTED],
    [rateLimited(), 429, "RATE_LIMITED", GrpcCode.RESOURCE_EXHAUSTED],
    [canceled(), 499, "CANCELED", GrpcCode.CANCELLED],
    [temporary("x"), 503, "UNAVAILABLE", GrpcCode.UNAVAILABLE],
    [timeout(), 504, "TIMEOUT", GrpcCode.DEADLINE_EXCEEDED],
    [permanent("x"), 500, "INTERNAL", GrpcCode.INTERNAL],
    [new RangeError("x"), 500, "INTERNAL", GrpcCode.INTERNAL],
    ["thrown string", 500, "INTERNAL", GrpcCode.INTERNAL],
    [undefined, 500, "INTERNAL", GrpcCode.INTERNAL],
  ];
  for (const [error, status, code, grpc] of table) {
    it(`${String(error)} → ${status} ${code} grpc ${grpc}`, () => {
      assert.equal(httpStatus(error), status);
      assert.equal(errorCode(error), code);
      assert.equal(grpcCode(error), grpc);
    });
  }

  it("uses the gRPC numbering", () => {
    assert.equal(GrpcCode.UNAVAILABLE, 14);
    assert.equal(GrpcCode.UNAUTHENTICATED, 16);
  });
});
