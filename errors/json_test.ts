import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isInvalidInput, isPermanent, readJson } from "./mod.ts";

const put = (body: BodyInit | null, headers?: HeadersInit) =>
  new Request("http://localhost/", { method: "PUT", body, headers });

async function rejectsInvalid(promise: Promise<unknown>, message: RegExp) {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(isInvalidInput(error), `expected invalid_input, got ${error}`);
  assert.match((error as Error).message, message);
}

describe("readJson", () => {
  it("parses a JSON body", async () => {
    assert.deepEqual(await readJson(put('{"a":[1,2]}')), { a: [1, 2] });
  });

  it("rejects malformed JSON as invalid input, keeping the SyntaxError as cause", async () => {
    const error = await readJson(put("{not json")).then(
      () => assert.fail("expected a rejection"),
      (e: Error) => e,
    );
    assert.ok(isInvalidInput(error));
    assert.match(error.message, /not valid JSON/);
    assert.ok(error.cause instanceof SyntaxError);
  });

  it("rejects a missing or empty body", async () => {
    await rejectsInvalid(readJson(new Request("http://localhost/")), /empty/);
    await rejectsInvalid(readJson(put("")), /empty/);
  });

  it("rejects invalid UTF-8", async () => {
    await rejectsInvalid(
      readJson(put(new Uint8Array([0x22, 0xff, 0x22]))),
      /UTF-8/,
    );
  });

  it("enforces maxBytes from Content-Length and from the stream", async () => {
    await rejectsInvalid(
      readJson(put("[1]", { "content-length": "999999" }), { maxBytes: 10 }),
      /larger than 10 bytes/,
    );
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) {
          controller.enqueue(new TextEncoder().encode("[1,1,1,1]"));
        }
        controller.close();
      },
    });
    await rejectsInvalid(
      readJson(put(chunks), { maxBytes: 20 }),
      /larger than 20/,
    );
  });

  it("rejects a bad maxBytes, and a body read twice as a server error", async () => {
    await assert.rejects(
      readJson(put("[]"), { maxBytes: NaN }),
      /maxBytes must be >= 0/,
    );
    const req = put("[1]");
    await req.text();
    const error = await readJson(req).catch((e: Error) => e);
    assert.ok(isPermanent(error));
    assert.match(String(error), /already read/);
  });

  it("joins a body that arrives in chunks", async () => {
    const parts = ['{"a":', '"b"}'];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of parts) controller.enqueue(new TextEncoder().encode(p));
        controller.close();
      },
    });
    assert.deepEqual(await readJson(put(stream)), { a: "b" });
  });
});
