import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  canceled,
  conflict,
  CqiError,
  type ErrorKind,
  forbidden,
  hasKind,
  invalidInput,
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
  notFound,
  permanent,
  rateLimited,
  temporary,
  timeout,
  tooLarge,
  unauthorized,
  wrap,
} from "./mod.ts";

describe("constructors", () => {
  const cases: Array<[CqiError, ErrorKind, (e: unknown) => boolean]> = [
    [permanent("bug"), "permanent", isPermanent],
    [temporary("down"), "temporary", isTemporary],
    [notFound("order", 7), "not_found", isNotFound],
    [invalidInput("bad"), "invalid_input", isInvalidInput],
    [unauthorized(), "unauthorized", isUnauthorized],
    [forbidden(), "forbidden", isForbidden],
    [conflict("dup"), "conflict", isConflict],
    [tooLarge(), "too_large", isTooLarge],
    [rateLimited(), "rate_limited", isRateLimited],
    [canceled(), "canceled", isCanceled],
    [timeout(), "timeout", isTimeout],
  ];
  for (const [error, kind, is] of cases) {
    it(`${kind}: has its kind, and only its predicate matches`, () => {
      assert.ok(error instanceof CqiError);
      assert.ok(error instanceof Error);
      assert.equal(error.name, "CqiError");
      assert.equal(error.kind, kind);
      assert.equal(kindOf(error), kind);
      assert.ok(is(error));
      for (const [, otherKind, otherIs] of cases) {
        if (otherKind !== kind) assert.equal(otherIs(error), false, otherKind);
      }
    });
  }

  it("builds not-found messages with and without an id", () => {
    assert.equal(
      notFound("position", "BTC-1").message,
      'position "BTC-1" not found',
    );
    assert.equal(notFound("config").message, "config not found");
  });

  it("keeps cause, retryAfter and a copy of fields", () => {
    const cause = new Error("socket closed");
    const fields = { quantity: "expected a number" };
    const err = invalidInput("bad", { fields, cause });
    fields.quantity = "changed";
    assert.equal(err.cause, cause);
    assert.deepEqual(err.fields, { quantity: "expected a number" });
    assert.equal(temporary("x", { retryAfter: 1500 }).retryAfter, 1500);
    assert.equal("cause" in permanent("no cause"), false);
  });

  it("rejects an unknown kind and a negative retryAfter", () => {
    assert.throws(
      () => new CqiError("nope" as ErrorKind, "x"),
      /unknown kind "nope"/,
    );
    assert.throws(() => temporary("x", { retryAfter: -1 }), /retryAfter/);
    assert.throws(() => rateLimited("x", { retryAfter: NaN }), /retryAfter/);
  });
});

describe("wrap", () => {
  it("keeps the kind, retryAfter and fields, and chains the cause", () => {
    const inner = rateLimited("slow down", { retryAfter: 3000 });
    const outer = wrap(inner, "place order");
    assert.equal(outer.kind, "rate_limited");
    assert.equal(outer.retryAfter, 3000);
    assert.equal(outer.message, "place order");
    assert.equal(outer.cause, inner);
    const bad = wrap(invalidInput("bad", { fields: { a: "b" } }), "parse");
    assert.deepEqual(bad.fields, { a: "b" });
  });

  it("finds a kind deeper in a plain Error's cause chain", () => {
    const err = wrap(new Error("query", { cause: notFound("row") }), "load");
    assert.equal(err.kind, "not_found");
  });

  it("makes unknown errors and non-errors permanent", () => {
    assert.equal(wrap(new TypeError("x"), "a").kind, "permanent");
    assert.equal(wrap("a string", "b").kind, "permanent");
    assert.equal(wrap(undefined, "c").cause, undefined);
  });
});

describe("predicates and kindOf", () => {
  it("walk the cause chain", () => {
    const err = new Error("outer", {
      cause: new Error("mid", { cause: temporary("db") }),
    });
    assert.ok(isTemporary(err));
    assert.equal(kindOf(err), "temporary");
  });

  it("look inside AggregateError", () => {
    const agg = new AggregateError([new Error("a"), conflict("b")]);
    assert.ok(isConflict(agg));
    assert.equal(kindOf(agg), undefined, "mixed kinds have no single kind");
    const same = new AggregateError([
      temporary("a"),
      wrap(temporary("b"), "c"),
    ]);
    assert.equal(kindOf(same), "temporary");
  });

  it("treat a TimeoutError DOMException as a timeout", () => {
    const err = new DOMException("signal timed out", "TimeoutError");
    assert.ok(isTimeout(err));
    assert.equal(kindOf(new Error("fetch", { cause: err })), "timeout");
  });

  it("survive cycles and non-errors", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.equal(isNotFound(a), false);
    assert.equal(kindOf(a), undefined);
    const agg = new AggregateError([]);
    agg.errors.push(agg);
    assert.equal(hasKind(agg, "conflict"), false);
    assert.equal(kindOf(agg), undefined);
    for (const value of [undefined, null, 42, "x", { kind: "not_found" }]) {
      assert.equal(kindOf(value), undefined);
      assert.equal(isNotFound(value), false);
    }
  });
});
