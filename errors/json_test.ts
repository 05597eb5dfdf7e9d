import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyMiddleware, serve } from "@cqi/http";
import { rawClient } from "../tests/_raw_client.ts";
import { runtime } from "../tests/_util.ts";
import {
  canceled,
  type CqiError,
  isCanceled,
  isInvalidInput,
  isPermanent,
  isTooLarge,
  kindOf,
  readJson,
  type RecoveredError,
  recovery,
} from "./mod.ts";

const put = (body: BodyInit | null, headers?: HeadersInit) =>
  new Request("http://localhost/", { method: "PUT", body, headers });

async function rejectsInvalid(promise: Promise<unknown>, message: RegExp) {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(isInvalidInput(error), `expected invalid_input, got ${error}`);
  assert.match((error as Error).message, message);
}

async function rejectsTooLarge(promise: Promise<unknown>, message: RegExp) {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(isTooLarge(error), `expected too_large, got ${error}`);
  assert.match((error as Error).message, message);
}

const failure = (promise: Promise<unknown>) =>
  promise.then(() => assert.fail("expected a rejection"), (e: Error) => e);

/** A body stream that fails on its first read with `error`. */
const failing = (error: unknown) =>
  new ReadableStream<Uint8Array>({
    pull: (controller) => controller.error(error),
  });

/**
 * A real server whose one route reads the body with `readJson` inside
 * `recovery`: `reading` resolves once the handler has started (so a client
 * may misbehave mid-body), `recovered` with what `recovery` caught.
 */
function bodyServer(maxBytes?: number) {
  let started!: () => void;
  const reading = new Promise<void>((resolve) => started = resolve);
  let caught!: (recovered: RecoveredError) => void;
  const recovered = new Promise<RecoveredError>((resolve) => caught = resolve);
  const server = serve(
    applyMiddleware(async (req) => {
      started();
      return Response.json(await readJson(req, { maxBytes }));
    }, recovery({ onError: caught })),
    { port: 0, hostname: "127.0.0.1", handleSignals: false },
  );
  return { server, port: server.addr.port, reading, recovered };
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

  it("enforces maxBytes from Content-Length and from the stream as too_large (413)", async () => {
    await rejectsTooLarge(
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
    await rejectsTooLarge(
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

  it("maps a body stream that fails to the client's fault, keeping the cause", async () => {
    // the names each runtime's stream uses for a client gone mid-body
    for (
      const gone of [
        new DOMException("The connection was closed.", "AbortError"),
        Object.assign(new Error("Cannot read request body"), {
          name: "BadResource",
        }),
        Object.assign(new Error("reset"), { name: "ConnectionReset" }),
      ]
    ) {
      const error = await failure(readJson(put(failing(gone))));
      assert.ok(isCanceled(error), `${gone.name}: got ${error}`);
      assert.equal(error.cause, gone);
    }
    // anything else the stream throws is a body the runtime could not parse
    const garbled = new Error("invalid HTTP/1 request: Invalid");
    const error = await failure(readJson(put(failing(garbled))));
    assert.ok(isInvalidInput(error));
    assert.match(error.message, /could not be read/);
    assert.equal(error.cause, garbled);
    // a stream that already fails with a CQI error keeps it
    const own = canceled("proxy gave up");
    assert.equal(await failure(readJson(put(failing(own)))), own);
  });
});

describe("readJson on a real server, with a raw socket client", () => {
  const head = (headers: string) =>
    `POST /orders HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}\r\n`;

  it("answers 499 canceled, not 500, when the client hangs up mid-body", async () => {
    const { server, port, reading, recovered } = bodyServer();
    await using _ = server;
    const client = await rawClient(port);
    await client.write(head("content-length: 100\r\n") + '{"a":');
    await reading;
    client.destroy();
    const { error, status } = await recovered;
    assert.equal(status, 499);
    assert.equal(kindOf(error), "canceled");
    // what each runtime's body stream really throws
    const cause = (error as CqiError).cause as Error;
    if (runtime === "deno") {
      assert.equal(cause.name, "BadResource");
      assert.match(cause.message, /Cannot read request body/);
    } else {
      assert.ok(cause instanceof DOMException);
      assert.equal(cause.name, "AbortError");
    }
  });

  it("answers 499 when a chunked body is cut off", async () => {
    const { server, port, reading, recovered } = bodyServer();
    await using _ = server;
    const client = await rawClient(port);
    await client.write(
      head("transfer-encoding: chunked\r\n") + '5\r\n{"a":\r\n',
    );
    await reading;
    client.destroy();
    const { error, status } = await recovered;
    assert.equal(status, 499);
    assert.ok(isCanceled(error));
  });

  it("answers a garbled chunk size as the client's fault: 400 on Deno, 499 on Bun", async () => {
    const { server, port, reading, recovered } = bodyServer();
    await using _ = server;
    const client = await rawClient(port);
    await client.write(
      head("transfer-encoding: chunked\r\n") + '5\r\n{"a":\r\n',
    );
    // Deno drops a request whose framing breaks before its handler runs;
    // here the handler is reading when the bad chunk size arrives.
    await reading;
    await client.write("zz\r\nhello\r\n0\r\n\r\n");
    const { error, status } = await recovered;
    client.destroy();
    const cause = (error as CqiError).cause as Error;
    if (runtime === "deno") {
      // Deno rejects the read with a plain Error and sends no answer
      assert.equal(status, 400);
      assert.ok(isInvalidInput(error));
      assert.match(cause.message, /invalid HTTP\/1 request/);
    } else {
      // Bun closes the connection and rejects the read as it does for a
      // hang-up: to the handler the client is gone
      assert.equal(status, 499);
      assert.ok(isCanceled(error));
      assert.equal(cause.name, "AbortError");
    }
  });

  it("answers 413 to a body over the limit, declared or streamed", async () => {
    const declared = bodyServer(10);
    await using _declared = declared.server;
    let client = await rawClient(declared.port);
    await client.write(
      head("content-length: 11\r\nconnection: close\r\n") + "[1,2,3,4,5]",
    );
    assert.match(await client.closed, /^HTTP\/1\.1 413 /);
    assert.equal((await declared.recovered).status, 413);

    const streamed = bodyServer(10);
    await using _streamed = streamed.server;
    client = await rawClient(streamed.port);
    await client.write(
      head("transfer-encoding: chunked\r\nconnection: close\r\n") +
        "6\r\n[1,2,3\r\n6\r\n,4,5,6\r\n1\r\n]\r\n0\r\n\r\n",
    );
    assert.match(await client.closed, /^HTTP\/1\.1 413 /);
    const { error, status } = await streamed.recovered;
    assert.equal(status, 413);
    assert.match((error as Error).message, /larger than 10 bytes/);
  });
});
