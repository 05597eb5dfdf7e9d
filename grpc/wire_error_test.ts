import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Code, ConnectError } from "@connectrpc/connect";
import { CqiError, type ErrorKind, kindOf, notFound } from "@cqi/errors";
import { CODE_KEY, toConnectError, toCqiError } from "./wire_error.ts";
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
    const kept = new ConnectError("no such row", Code.NotFound);
    assert.equal(await toConnectError(kept), kept);
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

  it("passes values that are not ConnectErrors", () => {
    const e = notFound("x");
    assert.equal(toCqiError(e), e);
    assert.equal(toCqiError("str"), "str");
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
            after === undefined || (after > 0 && Number.isFinite(after)),
          );
        },
      ),
    );
  });
});
