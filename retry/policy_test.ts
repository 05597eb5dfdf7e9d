import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type AddressInfo, createServer } from "node:net";
import {
  conflict,
  invalidInput,
  notFound,
  permanent,
  rateLimited,
  temporary,
  timeout,
  wrap,
} from "@cqi/errors";
import { retryAll, retryNone, retryTemporary } from "./mod.ts";

function withCode(code: string, message = "socket error"): Error {
  return Object.assign(new Error(message), { code });
}

function named(name: string): Error {
  const error = new Error("deno error");
  error.name = name;
  return error;
}

describe("retryTemporary", () => {
  it("retries temporary, timeout and rate_limited errors", () => {
    assert.equal(retryTemporary(temporary("db down")), true);
    assert.equal(retryTemporary(timeout()), true);
    assert.equal(retryTemporary(rateLimited()), true);
    assert.equal(
      retryTemporary(new DOMException("deadline", "TimeoutError")),
      true,
    );
  });

  it("does not retry the other kinds", () => {
    for (
      const error of [
        notFound("order", 1),
        invalidInput("bad"),
        conflict("dup"),
        permanent("bug"),
      ]
    ) {
      assert.equal(retryTemporary(error), false, error.kind);
    }
  });

  it("lets the outermost kind decide", () => {
    assert.equal(retryTemporary(wrap(temporary("down"), "save")), true);
    assert.equal(
      retryTemporary(new Error("load", { cause: temporary("down") })),
      true,
    );
    assert.equal(
      retryTemporary(permanent("bug", { cause: temporary("down") })),
      false,
    );
  });

  it("retries network failures without a kind", () => {
    assert.equal(retryTemporary(withCode("ECONNREFUSED")), true);
    assert.equal(retryTemporary(withCode("ECONNRESET")), true);
    assert.equal(retryTemporary(withCode("UND_ERR_SOCKET")), true);
    assert.equal(
      retryTemporary(
        new TypeError("fetch failed", { cause: withCode("ETIMEDOUT") }),
      ),
      true,
    );
    // Deno: TypeError "fetch failed" whose cause has no code.
    assert.equal(
      retryTemporary(
        new TypeError("fetch failed", {
          cause: new Error("tcp connect error: Connection refused"),
        }),
      ),
      true,
    );
    assert.equal(retryTemporary(new TypeError("Failed to fetch")), true);
    assert.equal(retryTemporary(named("ConnectionReset")), true);
    assert.equal(retryTemporary(named("BrokenPipe")), true);
  });

  it("really classifies a refused fetch as a network failure", async () => {
    const server = createServer();
    await new Promise<void>((resolve) =>
      server.listen(0, "127.0.0.1", resolve)
    );
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const error = await fetch(`http://127.0.0.1:${port}/`).catch((e) => e);
    assert.ok(error instanceof Error);
    assert.equal(retryTemporary(error), true, String(error));
  });

  it("does not retry bugs and unknown values", () => {
    assert.equal(retryTemporary(new Error("boom")), false);
    assert.equal(retryTemporary(new TypeError("x is not a function")), false);
    assert.equal(retryTemporary(withCode("ENOTFOUND")), false);
    assert.equal(retryTemporary(withCode("EACCES")), false);
    assert.equal(retryTemporary("a string"), false);
    assert.equal(retryTemporary(undefined), false);
    assert.equal(retryTemporary(named("AbortError")), false);
  });

  it("stops on a cyclic cause chain", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.equal(retryTemporary(a), false);
  });
});

describe("retryAll and retryNone", () => {
  it("retry everything and nothing", () => {
    for (const error of [new Error("x"), notFound("y"), temporary("z"), 0]) {
      assert.equal(retryAll(error), true);
      assert.equal(retryNone(error), false);
    }
  });
});
