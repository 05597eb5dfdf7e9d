import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Code, ConnectError } from "@connectrpc/connect";
import { CqiError, type ErrorKind, kindOf, notFound } from "@cqi/errors";
import {
  CODE_KEY,
  MAX_RETRY_AFTER_MS,
  toConnectError,
  toCqiError,
} from "./wire_error.ts";
import { codeOf } from "./call.ts";
import { hostileProxy } from "./testdata/echo.ts";

const KINDS: ErrorKind[] = [
  "not_found",
  "invalid_input",
  "unauthorized",
  "forbidden",
  "conflict",
  "too_large",
  "rate_limited",
  "canceled",
  "temporary",
  "timeout",
  "permanent",
];

describe("toConnectError", () => {
  it("maps every CQI kind to its code with the public message", async () => {
    for (const kind of KINDS) {
      const e = await toConnectError(
        new CqiError(kind, "public", { cause: new Error("private") }),
      );
      assert.ok(e instanceof ConnectError);
      assert.equal(
        e.rawMessage,
        kind === "permanent" ? "internal error" : "public",
      );
      assert.ok(e.metadata.get(CODE_KEY));
      assert.equal(e.cause, undefined);
    }
  });

  it("never leaks the message of a private ConnectError", async () => {
    const e = await toConnectError(
      new ConnectError("db password is x", Code.Internal),
    );
    assert.equal(e.rawMessage, "internal error");
    const kept = await toConnectError(
      new ConnectError("no such row", Code.NotFound),
    );
    assert.equal(kept.code, Code.NotFound);
    assert.equal(kept.rawMessage, "no such row");
  });

  it("D1: rebuilds what goes on the wire, never the thrown error's metadata", async () => {
    const downstream = new Headers({
      "set-cookie": "session=downstream-secret",
      "x-internal-host": "db-7.internal",
      [CODE_KEY]: "NOT_FOUND",
    });
    for (
      const thrown of [
        new ConnectError("no such row", Code.NotFound, downstream),
        toCqiError(new ConnectError("no such row", Code.NotFound, downstream)),
      ]
    ) {
      const e = await toConnectError(thrown);
      assert.equal(e.code, Code.NotFound);
      assert.equal(e.rawMessage, "no such row");
      assert.deepEqual(
        [...e.metadata.keys()].filter((k) => k !== CODE_KEY),
        [],
      );
      assert.equal(e.cause, undefined);
    }
  });

  it("D11: an out-of-range code is INTERNAL `internal error`", async () => {
    for (const code of [99, -1, "13", 0, 1.5, 17]) {
      const e = await toConnectError(
        new ConnectError("secret-code", code as unknown as Code),
      );
      assert.equal(e.code, Code.Internal);
      assert.equal(e.rawMessage, "internal error");
      assert.equal(codeOf(new ConnectError("x", code as never)), 13);
    }
  });

  it("D6: a deadline is DEADLINE_EXCEEDED, a client gone CANCELLED, an AbortError of the server's own INTERNAL", async () => {
    const deadline = new AbortController();
    deadline.abort(new ConnectError("timed out", Code.DeadlineExceeded));
    const gone = new AbortController();
    gone.abort();
    const abort = new DOMException("aborted", "AbortError");
    assert.equal(
      (await toConnectError(abort, deadline.signal)).code,
      Code.DeadlineExceeded,
    );
    assert.equal(
      (await toConnectError(abort, gone.signal)).code,
      Code.Canceled,
    );
    const own = await toConnectError(abort, new AbortController().signal);
    assert.equal(own.code, Code.Internal);
    assert.equal(own.rawMessage, "internal error");
    assert.equal(
      codeOf(new Error("x"), deadline.signal),
      Code.DeadlineExceeded,
    );
    assert.equal(codeOf(abort, new AbortController().signal), Code.Internal);
    // a bug after the deadline is still a bug
    const bug = await toConnectError(new Error("secret"), deadline.signal);
    assert.equal(bug.code, Code.Internal);
  });

  it("turns any thrown value into INTERNAL or its mapped code, never throwing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (thrown) => {
        const e = await toConnectError(thrown);
        assert.ok(e instanceof ConnectError);
        assert.ok(e.code === Code.Internal || kindOf(thrown) !== undefined);
        if (kindOf(thrown) === undefined) {
          assert.equal(e.rawMessage, "internal error");
        }
      }),
    );
  });

  it("rejects, not crashes, on a Proxy that throws on every look (caught by grpcRecovery)", async () => {
    await assert.rejects(() => toConnectError(hostileProxy()));
  });
});

describe("toCqiError", () => {
  it("takes the exact kind from cqi-error-code, else from the gRPC code", () => {
    const exact = toCqiError(
      new ConnectError("slow down", Code.ResourceExhausted, {
        [CODE_KEY]: "TOO_LARGE",
      }),
    );
    assert.equal(kindOf(exact), "too_large");
    const byCode = toCqiError(new ConnectError("x", Code.ResourceExhausted));
    assert.equal(kindOf(byCode), "rate_limited");
    assert.equal(
      kindOf(toCqiError(new ConnectError("x", Code.Unknown))),
      "permanent",
    );
  });

  it("keeps Connect's view of the error", () => {
    const from = new ConnectError("gone", Code.NotFound);
    const e = toCqiError(from) as CqiError & ConnectError;
    assert.ok(e instanceof CqiError);
    assert.ok(e instanceof ConnectError);
    assert.equal(ConnectError.from(e), e);
    assert.equal(e.code, Code.NotFound);
    assert.equal(e.cause, from);
    assert.equal(e.message, "gone");
  });

  it("passes CqiErrors, and anything once the caller aborted", () => {
    const e = notFound("x");
    assert.equal(toCqiError(e), e);
    const aborted = new AbortController();
    aborted.abort();
    const own = new ConnectError("aborted", Code.Canceled);
    assert.equal(toCqiError(own, aborted.signal), own);
  });

  it("D9: a failed connection is temporary, a body that is no answer permanent naming the method", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), {
      code: "ECONNREFUSED",
    });
    for (
      const network of [
        new TypeError("fetch failed"),
        refused,
        new ConnectError("fetch failed", Code.Unknown, {}, [], refused),
      ]
    ) {
      const e = toCqiError(network, undefined, "pkg.S/M") as ConnectError;
      assert.equal(kindOf(e), "temporary");
      assert.ok(e instanceof ConnectError);
      assert.equal(e.code, Code.Unavailable);
    }
    const garbage = toCqiError(
      new SyntaxError("Unexpected token"),
      undefined,
      "pkg.S/M",
    ) as CqiError;
    assert.equal(kindOf(garbage), "permanent");
    assert.match(garbage.message, /pkg\.S\/M/);
    assert.equal(kindOf(toCqiError("str")), "permanent");
    const redirect = new TypeError("Fetch failed: Encountered redirect");
    assert.equal(kindOf(toCqiError(redirect)), "permanent");
  });

  it("D1: keeps no raw response header of the server in its metadata", () => {
    const e = toCqiError(
      new ConnectError(
        "gone",
        Code.NotFound,
        new Headers({ "set-cookie": "s=secret", [CODE_KEY]: "NOT_FOUND" }),
      ),
    ) as ConnectError;
    assert.deepEqual([...e.metadata.keys()], [CODE_KEY]);
  });

  it("D10: a hostile retry-after is capped at 5 minutes, a non-finite one ignored", () => {
    const after = (value: string) =>
      (toCqiError(
        new ConnectError("slow", Code.Unavailable, { "retry-after": value }),
      ) as CqiError).retryAfter;
    assert.equal(after("1e308"), MAX_RETRY_AFTER_MS);
    assert.equal(after("9007199254740993"), MAX_RETRY_AFTER_MS);
    assert.equal(after("1e400"), undefined);
    assert.equal(after("2"), 2000);
    assert.equal(MAX_RETRY_AFTER_MS, 300_000);
  });

  it("parses any cqi-error-code and retry-after metadata into a valid kind", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 12 }),
        fc.integer({ min: 0, max: 16 }),
        (code, retry, grpc) => {
          const metadata = new Headers();
          // only what a header may carry reaches the client
          try {
            metadata.set(CODE_KEY, code);
            metadata.set("retry-after", retry);
          } catch {
            return;
          }
          const e = toCqiError(new ConnectError("m", grpc, metadata));
          if (grpc === 0) return; // OK: a ConnectError, not a failure
          assert.ok(KINDS.includes(kindOf(e)!));
          const after = (e as CqiError).retryAfter;
          assert.ok(
            after === undefined || (after > 0 && after <= MAX_RETRY_AFTER_MS),
          );
        },
      ),
    );
  });
});
