/**
 * Streaming response bodies that a shutdown can cut. `Deno.serve`'s own
 * shutdown waits for every response to be written in full and has no way to
 * close a connection: a body that never ends (a server stream, a proxied
 * download to a client that stopped reading) would hold it, and the process,
 * for ever. `serve` hands Deno each streaming body through one of these
 * instead, and cancels them all when the grace period runs out. Bun closes
 * the connections itself and needs none. Internal to `serve`.
 */
export class TrackedBodies {
  #open = new Set<(reason: unknown) => void>();
  #cut = false;
  #reason: unknown;

  /**
   * The response to hand to the runtime: `res` itself when its body is
   * absent or held in memory (a string, bytes, a `Blob`), else a copy whose
   * body {@linkcode TrackedBodies.cut} can end.
   */
  track(res: Response): Response {
    const source = streamingBody(res);
    if (source === null || source.locked) return res;
    return new Response(this.#wrap(source), {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  }

  /**
   * Errors every tracked body still streaming with `reason` (the runtime
   * then closes its connection) and cancels its source with it; a body
   * tracked later is cut at once.
   */
  cut(reason: unknown): void {
    this.#cut = true;
    this.#reason = reason;
    for (const cut of [...this.#open]) cut(reason);
  }

  // Reads `source` only when the runtime pulls, so nothing is buffered here:
  // a cut errors the stream at once, even while the client reads nothing.
  #wrap(source: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    const open = this.#open;
    const reader = source.getReader();
    let cut!: (reason: unknown) => void;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        cut = (reason) => {
          open.delete(cut);
          controller.error(reason);
          reader.cancel(reason).catch(() => {});
        };
        if (this.#cut) cut(this.#reason);
        else open.add(cut);
      },
      pull: async (controller) => {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (open.delete(cut)) controller.error(error);
          return;
        }
        if (!open.has(cut)) return; // cut while reading
        if (chunk.done) {
          open.delete(cut);
          controller.close();
        } else controller.enqueue(chunk.value);
      },
      cancel: (reason) => {
        open.delete(cut);
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
  }
}

// Deno creates a body stream only when `res.body` is read: a response built
// from a string or bytes keeps its body in memory and goes out on a fast path
// that reading `res.body` would leave (about 15–30% of a "hello" server's
// throughput, measured with wrk). The runtime's own record of the body says
// which kind it is without creating one. Where that record is not found (a
// Deno that keeps it differently), reading `res.body` is correct, only slower
// (a test checks that the record is found).
const RESPONSE = Object.getOwnPropertySymbols(new Response(null))
  .find((symbol) => symbol.description === "response");

interface DenoInnerBody {
  streamOrStatic?: unknown;
  length?: number | null;
}

// Deno's record of the body of `res`: null for none (or a string kept
// aside), undefined where there is no such record.
function innerBody(res: Response): DenoInnerBody | null | undefined {
  if (RESPONSE === undefined) return undefined;
  const inner = (res as unknown as Record<symbol, unknown>)[RESPONSE];
  return (inner as { body?: DenoInnerBody | null } | undefined)?.body;
}

/**
 * The body stream of `res` when it streams: a `ReadableStream` whose length
 * is not known up front (not a string, bytes or a `Blob`); else `null`.
 */
export function streamingBody(
  res: Response,
): ReadableStream<Uint8Array> | null {
  const body = innerBody(res);
  if (body === undefined) return res.body;
  if (body === null) return null;
  if (!(body.streamOrStatic instanceof ReadableStream)) return null; // bytes
  return body.length == null ? res.body : null; // a Blob has a length
}

/** Whether `streamingBody` finds Deno's record of a body (for a test). */
export function readsDenoRecord(): boolean {
  const streaming = new Response(new ReadableStream());
  return innerBody(new Response("x")) === null &&
    innerBody(streaming)?.streamOrStatic === streaming.body;
}
