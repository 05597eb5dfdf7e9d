// Fuzzing what an HTTP request carries into CQI (issue 20): request paths
// through `router` (percent-encodings, malformed escapes, dot segments,
// backslashes, Unicode, overlong paths and segments; as a parsed `Request`
// and as the raw target a server may hand over), and bodies through
// `readJson` with a valibot schema behind `recovery` (any bytes, any
// content type, invalid UTF-8, deep nesting, over the size limit). The
// answer is a route's 2xx, a 404, 405, 400 or 413 with a JSON `code`; never
// a throw, never a 5xx.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as v from "valibot";
import { applyMiddleware, group, router } from "@cqi/http";
import { CqiError, readJson, recovery } from "@cqi/errors";
import {
  anyChar,
  assertClientError,
  headerValue,
  mutated,
  RUNS,
  TIMEOUT,
} from "./_hostile.ts";

const echo = (_req: Request, params: Record<string, string>) =>
  Response.json(params);

describe("fuzz: HTTP request paths and bodies", () => {
  it("regression: a malformed escape matches literally", async () => {
    const app = router({ "GET /files/:name": echo });
    const res = await app(new Request("http://h/files/%E0%A4%A"));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { name: "%E0%A4%A" });
  });

  it(`router: any path is a route, a 404, 405 or 400 (${RUNS} cases)`, {
    timeout: TIMEOUT,
  }, async () => {
    const guard = (req: Request, next: (req: Request) => Promise<Response>) =>
      next(req);
    const app = router({
      "GET /": echo,
      "GET /health/live": echo,
      "GET /users/:id": echo,
      "PUT /users/:id": echo,
      "DELETE /users/:id/keys/:key": echo,
      "GET /files/*": echo,
      "* /any/:x": echo,
      "POST /é/:x": echo,
      ...group("/api", [guard], {
        "GET /orders/:id": echo,
        "GET /orders/:id/items/*": echo,
      }),
    });
    const segment = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.constantFrom(
          "users",
          "1",
          "keys",
          "files",
          "any",
          "api",
          "orders",
          "items",
          "health",
          "live",
          "é",
          "%C3%A9",
          "",
        ),
      },
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          ".",
          "..",
          "%2e",
          "%2E%2e",
          "%2f",
          "%5C",
          "%",
          "%%",
          "%zz",
          "%E0%A4%A",
          "%ED%A0%80",
          "%00",
          "%FF",
          "\\",
          ";",
          "?",
          "#",
          " ",
          "\t",
          "\u0000",
          "\ud800",
          "\uffff",
          "😀",
          "x".repeat(5000),
        ),
      },
      { weight: 2, arbitrary: fc.string({ unit: anyChar, maxLength: 6 }) },
    );
    const path = fc.array(segment, { maxLength: 8 }).map((s) =>
      "/" + s.join("/")
    );
    const target = fc.oneof(
      { weight: 4, arbitrary: path },
      { weight: 1, arbitrary: mutated(path, anyChar, 3) },
      {
        weight: 1,
        arbitrary: fc.tuple(path, fc.constantFrom("?a=%", "#x", "?", "//x"))
          .map(
            ([p, q]) => p + q,
          ),
      },
    );
    const method = fc.constantFrom("GET", "HEAD", "PUT", "POST", "DELETE", "X");
    let routed = 0;
    await fc.assert(
      fc.asyncProperty(target, method, fc.boolean(), async (t, m, raw) => {
        let req: Request;
        if (raw) {
          // What a server could hand over unparsed: the target as it came.
          req = {
            url: "http://h" + (t.startsWith("/") ? t : "/" + t),
            method: m,
            headers: new Headers(),
          } as Request;
        } else {
          try {
            req = new Request("http://h" + t, { method: m });
          } catch {
            return; // not a request a server could build
          }
        }
        const res = await app(req);
        if (res.status === 200) {
          routed++;
          assert.equal(typeof await res.json(), "object");
          return;
        }
        await assertClientError(res, [400, 404, 405]);
      }),
      { numRuns: RUNS },
    );
    assert.ok(routed > 0, "no generated path was routed");
  });

  it(`readJson: any body is the value, a 400 or a 413 (${RUNS} cases)`, {
    timeout: TIMEOUT,
  }, async () => {
    const Order = v.object({
      id: v.pipe(v.string(), v.minLength(1), v.maxLength(20)),
      qty: v.pipe(v.number(), v.integer(), v.minValue(1)),
      tags: v.optional(v.array(v.picklist(["a", "b"]))),
      note: v.optional(v.pipe(v.string(), v.regex(/^[a-z ]*$/))),
      meta: v.optional(v.record(v.string(), v.union([v.string(), v.number()]))),
      ship: v.optional(
        v.object({ to: v.string(), at: v.nullable(v.number()) }),
      ),
    });
    const MAX = 512;
    let accepted = 0;
    const handler = applyMiddleware(
      async (req) => {
        let value: unknown;
        try {
          value = await readJson(req, Order, { maxBytes: MAX });
        } catch (error) {
          // Typed: the client's fault, with a kind.
          assert.ok(error instanceof CqiError, String(error));
          assert.ok(
            ["invalid_input", "too_large"].includes(error.kind),
            error.kind,
          );
          throw error;
        }
        accepted++;
        return Response.json(value);
      },
      recovery(),
    );
    const json = fc.jsonValue({ maxDepth: 2 });
    // Values of the wrong type, cheap to generate (a full JSON value per
    // field would triple the cost of a case).
    const odd = fc.constantFrom<unknown>(
      null,
      true,
      0,
      -1,
      1.5,
      1e308,
      "",
      "x",
      [],
      {},
      [1],
      { a: 1 },
    );
    const order = fc.record({
      id: fc.oneof(fc.string({ maxLength: 25 }), odd),
      qty: fc.oneof(fc.integer({ min: -2, max: 1e6 }), fc.double(), odd),
      tags: fc.oneof(
        fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 3 }),
        odd,
      ),
      note: fc.oneof(fc.string({ unit: anyChar, maxLength: 10 }), odd),
      meta: fc.oneof(
        fc.dictionary(
          fc.string({ maxLength: 4 }),
          fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), odd),
          { maxKeys: 3 },
        ),
        odd,
      ),
      ship: fc.oneof(
        fc.record({
          to: fc.string({ maxLength: 4 }),
          at: fc.oneof(fc.integer(), fc.constant(null), odd),
        }),
        odd,
      ),
    }, { requiredKeys: ["id", "qty"] });
    const encoder = new TextEncoder();
    const body = fc.oneof(
      {
        weight: 5,
        arbitrary: order.map((o) => encoder.encode(JSON.stringify(o))),
      },
      {
        weight: 1,
        arbitrary: json.map((j) => encoder.encode(JSON.stringify(j))),
      },
      {
        weight: 2,
        arbitrary: mutated(order.map((o) => JSON.stringify(o)), anyChar, 3)
          .map((s) => encoder.encode(s)),
      },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          "",
          " ",
          "\ufeff{}",
          "[".repeat(5000) + "]".repeat(5000),
          `{"id":"x","qty":1,"__proto__":{"qty":2}}`,
          `{"id":"x","qty":1,"constructor":{"prototype":{}}}`,
          `{"id":"x","qty":1e999}`,
          `{"id":"x","qty":1,"id":"y"}`,
          "x".repeat(MAX + 1),
          "null",
        ).map((s) => encoder.encode(s)),
      },
      {
        weight: 1,
        arbitrary: fc.uint8Array({ maxLength: 8 }).map((b) =>
          new Uint8Array([...encoder.encode('{"id":"'), ...b, 0x22, 0x7d])
        ),
      },
    );
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.option(
          headerValue("application/json", "text/plain; charset=utf-16"),
          {
            nil: undefined,
          },
        ),
        fc.constantFrom("POST", "PUT", "GET"),
        fc.boolean(),
        async (bytes, type, method, stream) => {
          const headers = new Headers();
          if (type !== undefined) headers.set("content-type", type);
          const init: RequestInit & { duplex?: string } = { method, headers };
          if (method !== "GET") {
            init.body = stream
              ? new ReadableStream({
                start(c) {
                  // in two chunks, as a network delivers it
                  const half = bytes.length >> 1;
                  c.enqueue(bytes.subarray(0, half));
                  c.enqueue(bytes.subarray(half));
                  c.close();
                },
              })
              : bytes;
            if (stream) init.duplex = "half";
          }
          const res = await handler(new Request("http://h/orders", init));
          if (res.status === 200) {
            const value = await res.json();
            assert.ok(v.is(Order, value), JSON.stringify(value));
            return;
          }
          await assertClientError(res, [400, 413]);
        },
      ),
      { numRuns: RUNS },
    );
    assert.ok(accepted > 0, "no generated body was accepted");
  });
});
