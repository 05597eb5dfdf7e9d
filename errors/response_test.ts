import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  canceled,
  conflict,
  errorResponse,
  invalidInput,
  notFound,
  permanent,
  rateLimited,
  temporary,
  tooLarge,
  wrap,
} from "./mod.ts";

describe("errorResponse", () => {
  it("answers JSON with the public message and code", async () => {
    const res = errorResponse(notFound("position", "BTC-1"));
    assert.equal(res.status, 404);
    assert.equal(
      res.headers.get("content-type"),
      "application/json; charset=utf-8",
    );
    assert.deepEqual(await res.json(), {
      error: 'position "BTC-1" not found',
      code: "NOT_FOUND",
    });
  });

  it("includes the bad fields of invalid input", async () => {
    const res = errorResponse(invalidInput("invalid position", {
      fields: { quantity: "expected a number" },
    }));
    assert.deepEqual(await res.json(), {
      error: "invalid position",
      code: "INVALID_INPUT",
      fields: { quantity: "expected a number" },
    });
  });

  it("sets Retry-After in whole seconds, rounded up", () => {
    assert.equal(
      errorResponse(rateLimited("slow", { retryAfter: 1200 })).headers.get(
        "retry-after",
      ),
      "2",
    );
    assert.equal(
      errorResponse(temporary("down", { retryAfter: 30_000 })).headers.get(
        "retry-after",
      ),
      "30",
    );
    assert.equal(errorResponse(rateLimited()).headers.get("retry-after"), null);
  });

  it("shows the message of the error that set the kind, never a wrap message", async () => {
    const res = errorResponse(
      wrap(wrap(notFound("account", 7), "load portfolio"), "GET /p"),
    );
    assert.deepEqual(await res.json(), {
      error: 'account "7" not found',
      code: "NOT_FOUND",
    });
    const outer = errorResponse(conflict("order already filled", {
      cause: notFound("row"),
    }));
    assert.equal((await outer.json()).error, "order already filled");
    const timedOut = errorResponse(
      wrap(new DOMException("signal timed out", "TimeoutError"), "SELECT 1"),
    );
    assert.deepEqual(await timedOut.json(), {
      error: "timed out",
      code: "TIMEOUT",
    });
  });

  it("answers 413 for too_large and 499, which both runtimes accept, for canceled", async () => {
    const large = errorResponse(tooLarge("body over 1 MiB"));
    assert.equal(large.status, 413);
    assert.deepEqual(await large.json(), {
      error: "body over 1 MiB",
      code: "TOO_LARGE",
    });
    const gone = errorResponse(
      canceled("client left", { cause: new Error("reset") }),
    );
    assert.equal(gone.status, 499);
    assert.deepEqual(await gone.json(), {
      error: "client left",
      code: "CANCELED",
    });
  });

  it("omits Retry-After when the delay is not finite", () => {
    const res = errorResponse(temporary("down", { retryAfter: Infinity }));
    assert.equal(res.headers.get("retry-after"), null);
  });

  it("gives a kind's default message when no CQI error supplies one", async () => {
    const res = errorResponse(
      new DOMException("signal timed out: db", "TimeoutError"),
    );
    assert.equal(res.status, 504);
    assert.deepEqual(await res.json(), { error: "timed out", code: "TIMEOUT" });
  });

  it("never leaks a secret from a cause, a stack, a plain error or a permanent message", async () => {
    const secret = "postgres://admin:hunter2@db";
    const cases: unknown[] = [
      new Error(secret),
      new TypeError(`cannot read ${secret}`),
      permanent(`insert failed on ${secret}`),
      notFound("user", 1, { cause: new Error(secret) }),
      temporary("db unavailable", { cause: new Error(secret) }),
      wrap(new Error(secret), "load"),
      wrap(
        temporary("db unavailable"),
        `SELECT * FROM keys WHERE k='${secret}'`,
      ),
      wrap(notFound("key"), `lookup ${secret}`),
      new Error(secret, { cause: notFound("user") }),
      new AggregateError([new Error(secret)], secret),
      secret,
      { message: secret },
    ];
    for (const error of cases) {
      const res = errorResponse(error);
      const text = await res.text();
      assert.ok(
        !text.includes("hunter2"),
        `leaked by ${String(error)}: ${text}`,
      );
      assert.ok(!text.includes("at "), "no stack frames");
      for (const [, value] of res.headers) {
        assert.ok(!value.includes("hunter2"));
      }
    }
  });
});
