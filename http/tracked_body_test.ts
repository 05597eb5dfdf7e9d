import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  readsDenoRecord,
  streamingBody,
  TrackedBodies,
} from "./tracked_body.ts";

// Bun closes connections itself on shutdown: serve tracks no body there, and
// Bun's `res.body` is a stream for every body, so only Deno tells them apart.
const denoOnly = {
  skip: "Bun" in globalThis ? "Bun needs no tracked bodies" : false,
};

/** A source that yields `chunks` and tells how it was cancelled. */
function source(chunks: string[] = [], end = true) {
  let cancelled!: (reason: unknown) => void;
  const cancel = new Promise<unknown>((r) => cancelled = r);
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      if (end) controller.close();
    },
    cancel: (reason) => cancelled(reason),
  });
  return { stream, cancel };
}

describe("streamingBody", () => {
  it("finds a stream only in a body of unknown length", denoOnly, async () => {
    assert.equal(streamingBody(new Response("text")), null);
    assert.equal(streamingBody(new Response(new Uint8Array(3))), null);
    assert.equal(streamingBody(Response.json({ a: 1 })), null);
    assert.equal(streamingBody(new Response(new Blob(["blob"]))), null);
    assert.equal(streamingBody(new Response(null, { status: 204 })), null);
    const { stream } = source(["a"]);
    const res = new Response(stream);
    assert.ok(streamingBody(res) instanceof ReadableStream);
    assert.equal(await res.text(), "a");
  });

  it(
    "reads Deno's record of a body rather than creating a stream",
    denoOnly,
    () => {
      // If a Deno upgrade moves the record, bodies are still found (by reading
      // `res.body`), but plain responses leave Deno's fast path: update it.
      assert.ok(readsDenoRecord());
    },
  );
});

describe("TrackedBodies", () => {
  it("hands plain responses over as they are", denoOnly, () => {
    const bodies = new TrackedBodies();
    const res = new Response("hello");
    assert.equal(bodies.track(res), res);
  });

  it("passes a streaming body through whole, with status and headers", async () => {
    const bodies = new TrackedBodies();
    const { stream } = source(["a", "b", "c"]);
    const res = bodies.track(
      new Response(stream, {
        status: 201,
        statusText: "Made",
        headers: { "x-a": "1" },
      }),
    );
    assert.equal(res.status, 201);
    assert.equal(res.statusText, "Made");
    assert.equal(res.headers.get("x-a"), "1");
    assert.equal(await res.text(), "abc");
    bodies.cut(new Error("too late")); // a finished body is not touched
  });

  it("cut errors the body at once and cancels its source with the reason", async () => {
    const bodies = new TrackedBodies();
    const { stream, cancel } = source(["first"], false); // never ends
    const reader = bodies.track(new Response(stream)).body!.getReader();
    assert.equal((await reader.read()).done, false);
    const pending = reader.read(); // waits on a source that sends no more
    const reason = new Error("grace period ran out");
    bodies.cut(reason);
    await assert.rejects(pending, (e) => e === reason);
    assert.equal(await cancel, reason);
  });

  it("cuts a body tracked after the cut at once", async () => {
    const bodies = new TrackedBodies();
    const reason = new Error("grace period ran out");
    bodies.cut(reason);
    const { stream, cancel } = source(["a"], false);
    const res = bodies.track(new Response(stream));
    await assert.rejects(res.text(), (e) => e === reason);
    assert.equal(await cancel, reason);
  });

  it("passes a consumer's cancel on to the source", async () => {
    const bodies = new TrackedBodies();
    const { stream, cancel } = source([], false);
    const res = bodies.track(new Response(stream));
    await res.body!.cancel("client went away");
    assert.equal(await cancel, "client went away");
    bodies.cut(new Error("later")); // nothing left to cut
  });

  it("passes a source's error on to the consumer", async () => {
    const bodies = new TrackedBodies();
    const failure = new Error("upstream broke");
    const res = bodies.track(
      new Response(
        new ReadableStream({
          pull: (controller) => controller.error(failure),
        }),
      ),
    );
    await assert.rejects(res.text(), (e) => e === failure);
  });
});
