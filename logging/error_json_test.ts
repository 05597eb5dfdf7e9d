import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { notFound, permanent, temporary, wrap } from "@cqi/errors";
import { createLogger, memorySink } from "./mod.ts";

interface ErrorRecord {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause: ErrorRecord[];
  errors?: ErrorRecord[];
  value?: unknown;
}

function logError(error: unknown): ErrorRecord {
  const sink = memorySink();
  createLogger({ output: sink }).error("failed", { error });
  return sink.records[0].error as ErrorRecord;
}

describe("the error field", () => {
  it("has type, message, code, stack and the whole cause chain", () => {
    const root = new Error("connect ECONNREFUSED 10.0.0.1:5432");
    Object.assign(root, { code: "ECONNREFUSED" });
    const error = wrap(
      temporary("orders unavailable", { cause: root }),
      "loading order 7",
    );
    const record = logError(error);
    assert.equal(record.type, "CqiError");
    assert.equal(record.message, "loading order 7");
    assert.equal(record.code, "UNAVAILABLE");
    assert.match(record.stack!, /loading order 7/);
    assert.equal(record.cause.length, 2);
    assert.deepEqual(
      record.cause.map((c) => [c.type, c.message, c.code]),
      [
        ["CqiError", "orders unavailable", "UNAVAILABLE"],
        ["Error", "connect ECONNREFUSED 10.0.0.1:5432", "ECONNREFUSED"],
      ],
    );
    assert.match(record.cause[1].stack!, /ECONNREFUSED/);
  });

  it("has an empty cause list and no code for a plain error", () => {
    const record = logError(new RangeError("out of range"));
    assert.equal(record.type, "RangeError");
    assert.equal(record.code, undefined);
    assert.deepEqual(record.cause, []);
  });

  it("maps each CQI kind to its public code", () => {
    assert.equal(logError(notFound("order", 1)).code, "NOT_FOUND");
    assert.equal(logError(permanent("bug")).code, "INTERNAL");
  });

  it("uses the constructor's name when the error's name is the default", () => {
    class PaymentError extends Error {}
    assert.equal(logError(new PaymentError("declined")).type, "PaymentError");
    const named = new Error("x");
    named.name = "CustomName";
    assert.equal(logError(named).type, "CustomName");
  });

  it("stops at a cycle in the cause chain", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    const record = logError(a);
    assert.deepEqual(record.cause.map((c) => c.message), ["b"]);
  });

  it("stops an absurdly long chain", () => {
    let error = new Error("0");
    for (let i = 1; i < 200; i++) {
      error = new Error(String(i), { cause: error });
    }
    assert.ok(logError(error).cause.length <= 64);
  });

  it("describes thrown non-errors and non-error causes", () => {
    assert.deepEqual(logError("just a string"), {
      type: "string",
      message: "just a string",
      cause: [],
    });
    assert.deepEqual(logError(undefined), {
      type: "undefined",
      message: "undefined",
      cause: [],
    });
    assert.deepEqual(logError(null), {
      type: "null",
      message: "null",
      cause: [],
    });
    const record = logError(
      new Error("outer", { cause: { message: "m", status: 502, token: "t" } }),
    );
    assert.deepEqual(record.cause, [{
      type: "Object",
      message: "m",
      value: { message: "m", status: 502, token: "[REDACTED]" },
    }]);
    const bare = logError(Object.create(null));
    assert.equal(bare.type, "Object");
    class Failure {
      reason = "r";
    }
    assert.deepEqual(logError(new Failure()), {
      type: "Failure",
      value: { reason: "r" },
      cause: [],
    });
  });

  it("lists an AggregateError's errors, each with its causes", () => {
    const record = logError(
      new AggregateError([
        new Error("first", { cause: new Error("root") }),
        "second",
      ], "all failed"),
    );
    assert.equal(record.type, "AggregateError");
    assert.equal(record.errors!.length, 2);
    assert.equal(record.errors![0].message, "first");
    assert.equal(record.errors![0].cause[0].message, "root");
    assert.equal(record.errors![1].type, "string");
  });

  it("bounds AggregateErrors nested in AggregateErrors", () => {
    let error: unknown = new Error("leaf");
    for (let i = 0; i < 6; i++) {
      error = new AggregateError([error], `level ${i}`);
    }
    const text = JSON.stringify(logError(error));
    assert.ok(!text.includes("leaf"));
  });

  it("is written for errors under any key", () => {
    const sink = memorySink();
    createLogger({ output: sink }).warn("x", { failure: new Error("f") });
    const failure = sink.records[0].failure as ErrorRecord;
    assert.equal(failure.message, "f");
  });
});
