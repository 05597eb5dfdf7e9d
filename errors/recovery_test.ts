import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyMiddleware, type Handler, serve } from "@cqi/http";
import { notFound, type RecoveredError, recovery, temporary } from "./mod.ts";

async function call(handler: Handler, path = "/") {
  await using server = serve(handler, {
    port: 0,
    hostname: "127.0.0.1",
    handleSignals: false,
  });
  const res = await fetch(`http://127.0.0.1:${server.addr.port}${path}`);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe("recovery on a real server", () => {
  it("maps a thrown CQI error and reports it with its cause", async () => {
    // Read the request inside the hook, as a logger does: once the response
    // is sent, Deno and Bun no longer give its URL.
    const seen: Array<RecoveredError & { path: string }> = [];
    const cause = new Error("connection refused");
    const res = await call(
      applyMiddleware(
        () => {
          throw temporary("prices unavailable", { cause, retryAfter: 2000 });
        },
        recovery({
          onError: (r) =>
            seen.push({ ...r, path: new URL(r.request.url).pathname }),
        }),
      ),
      "/prices",
    );
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "2");
    assert.deepEqual(JSON.parse(res.text), {
      error: "prices unavailable",
      code: "UNAVAILABLE",
    });
    assert.equal(seen.length, 1);
    assert.equal((seen[0].error as Error).cause, cause);
    assert.equal(seen[0].status, 503);
    assert.equal(seen[0].path, "/prices");
  });

  for (
    const [name, thrower] of [
      ["a string", () => Promise.reject("just a string")],
      ["undefined", () => Promise.reject(undefined)],
      ["null", () => Promise.reject(null)],
      ["a number", () => Promise.reject(42)],
      ["a TypeError", () => Promise.reject(new TypeError("x is undefined"))],
      ["a synchronous throw", () => {
        throw new Error("sync");
      }],
    ] as Array<[string, Handler]>
  ) {
    it(`answers 500 INTERNAL for ${name}`, async () => {
      const res = await call(applyMiddleware(thrower, recovery()));
      assert.equal(res.status, 500);
      assert.deepEqual(JSON.parse(res.text), {
        error: "internal error",
        code: "INTERNAL",
      });
    });
  }

  it("keeps a secret in a cause out of every response", async () => {
    const secret = "sk_live_DO_NOT_LEAK";
    const handlers: Handler[] = [
      () => {
        throw new Error(secret);
      },
      () => {
        throw notFound("account", "a1", { cause: new Error(secret) });
      },
      () => Promise.reject(new AggregateError([new Error(secret)])),
    ];
    for (const handler of handlers) {
      const res = await call(applyMiddleware(handler, recovery()));
      assert.ok(!res.text.includes(secret), res.text);
    }
  });

  it("still answers when the onError hook throws", async () => {
    const res = await call(applyMiddleware(
      () => {
        throw notFound("order", 1);
      },
      recovery({
        onError: () => {
          throw new Error("hook broke");
        },
      }),
    ));
    assert.equal(res.status, 404);
  });

  it("calls several hooks in order; one that throws does not stop the rest", async () => {
    const seen: string[] = [];
    const res = await call(applyMiddleware(
      () => {
        throw temporary("prices unavailable");
      },
      recovery({
        onError: [
          ({ status }) => void seen.push(`a ${status}`),
          () => {
            throw new Error("hook broke");
          },
          ({ error }) => void seen.push(`c ${(error as Error).message}`),
        ],
      }),
    ));
    assert.equal(res.status, 503);
    assert.deepEqual(seen, ["a 503", "c prices unavailable"]);
  });

  it("refuses an onError that is not a function", () => {
    // deno-lint-ignore no-explicit-any
    assert.throws(() => recovery({ onError: [5 as any] }), /onError/);
  });

  it("passes successful responses through untouched", async () => {
    const res = await call(
      applyMiddleware(() => new Response("fine", { status: 201 }), recovery()),
    );
    assert.equal(res.status, 201);
    assert.equal(res.text, "fine");
  });
});
