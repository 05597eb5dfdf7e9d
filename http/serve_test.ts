import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { connect } from "node:net";
import { once } from "node:events";
import {
  addLogFields,
  ContextKey,
  getLogFields,
  serve,
  type ServeOptions,
  withRequestScope,
} from "./mod.ts";
import { spawnScript } from "../tests/_util.ts";

const local = (options: ServeOptions = {}): ServeOptions => ({
  port: 0,
  hostname: "127.0.0.1",
  handleSignals: false,
  onListen: () => {},
  ...options,
});

/** A handler whose requests wait until released, to hold them in flight. */
function gate() {
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  let arrived!: () => void;
  const entered = new Promise<void>((r) => arrived = r);
  const handler = async () => {
    arrived();
    await released;
    return new Response("released");
  };
  return { handler, entered, release };
}

describe("serve", () => {
  it("listens on a free port and answers", async () => {
    await using server = serve(() => new Response("hello"), local());
    assert.equal(server.addr.hostname, "127.0.0.1");
    assert.ok(server.addr.port > 0);
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    assert.equal(await res.text(), "hello");
  });

  it("calls onListen with the address", async () => {
    let heard: { port: number } | undefined;
    await using server = serve(
      () => new Response(),
      local({ onListen: (a) => heard = a }),
    );
    assert.equal(heard?.port, server.addr.port);
  });

  it("says where it listens on stderr when no onListen is given", async () => {
    const printed: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void printed.push(args);
    try {
      await using server = serve(() => new Response(), {
        port: 0,
        hostname: "127.0.0.1",
        handleSignals: false,
      });
      assert.deepEqual(printed, [[
        `Listening on http://127.0.0.1:${server.addr.port}/`,
      ]]);
    } finally {
      console.error = original;
    }
  });

  it("answers a JSON 500 when the handler throws, and reports the error", async () => {
    const errors: unknown[] = [];
    await using server = serve(() => {
      throw new Error("secret-db-password");
    }, local({ onError: (e) => errors.push(e) }));
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    assert.equal(res.status, 500);
    const body = await res.text();
    assert.equal(body, '{"error":"internal error","code":"INTERNAL"}');
    assert.equal((errors[0] as Error).message, "secret-db-password");
  });

  it("survives a throwing onError", async () => {
    await using server = serve(
      () => Promise.reject("not even an Error"),
      local({
        onError: () => {
          throw new Error("reporter broke");
        },
      }),
    );
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    assert.equal(res.status, 500);
    await res.body?.cancel();
  });

  it("drains in-flight requests, refuses new ones, then runs hooks in reverse", async () => {
    const { handler, entered, release } = gate();
    const server = serve(handler, local());
    const url = `http://127.0.0.1:${server.addr.port}/`;
    const order: string[] = [];
    server.onClose(() => void order.push("first registered"));
    server.onClose(async () => {
      await Promise.resolve();
      order.push("last registered");
    });
    const inFlight = fetch(url);
    await entered;
    const stopping = server.shutdown();
    assert.equal(server.shutdown(), stopping, "shutdown is idempotent");
    // the event-loop turn serve lets pass first (its timer fires before ours)
    await new Promise((resolve) => setTimeout(resolve, 0));
    // Refused (Bun), or turned away with a 503 while it drains (Deno).
    const late = await fetch(url, { headers: { connection: "close" } }).then(
      (res) => res.status,
      () => "refused",
    );
    assert.ok(late === "refused" || late === 503, String(late));
    assert.deepEqual(order, [], "hooks wait for the drain");
    release();
    const res = await inFlight;
    assert.equal(await res.text(), "released");
    await stopping;
    await server.finished;
    assert.deepEqual(order, ["last registered", "first registered"]);
  });

  it("shuts down when the signal aborts, even one aborted already", async () => {
    const controller = new AbortController();
    const server = serve(
      () => new Response(),
      local({ signal: controller.signal }),
    );
    controller.abort();
    await server.finished;
    const early = serve(
      () => new Response(),
      local({ signal: AbortSignal.abort() }),
    );
    await early.finished;
    await assert.rejects(fetch(`http://127.0.0.1:${server.addr.port}/`));
  });

  it("gives up after the grace period, reports it and still runs every hook", async () => {
    const { handler, entered, release } = gate();
    const errors: unknown[] = [];
    const server = serve(
      handler,
      local({ gracePeriod: 50, onError: (e) => errors.push(e) }),
    );
    let hookRan = false;
    server.onClose(() => {
      throw new Error("hook failed");
    });
    server.onClose(() => void (hookRan = true));
    const inFlight = fetch(`http://127.0.0.1:${server.addr.port}/`).catch((e) =>
      e
    );
    await entered;
    const error = await server.shutdown().catch((e) => e);
    assert.ok(error instanceof AggregateError);
    assert.match(
      String(error.errors[0]),
      /grace period of 50 ms ran out with 1 request/,
    );
    assert.match(String(error.errors[1]), /hook failed/);
    assert.equal(errors.length, 2, "each problem goes to onError too");
    assert.ok(hookRan);
    await server.finished;
    release();
    await inFlight;
  });

  it("reads PORT and rejects a bad one with a clear error", async () => {
    const saved = process.env.PORT;
    try {
      process.env.PORT = "not-a-port";
      assert.throws(
        () =>
          serve(() => new Response(), {
            hostname: "127.0.0.1",
            handleSignals: false,
          }),
        /PORT "not-a-port" is not a port/,
      );
      process.env.PORT = "0";
      await using server = serve(() => new Response(), {
        hostname: "127.0.0.1",
        handleSignals: false,
      });
      assert.ok(server.addr.port > 0);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  it("runs each request in a fresh async context, not the caller's", async () => {
    const key = new ContextKey<string>("test.bootstrap");
    const seen: unknown[] = [];
    const server = key.with("bootstrap", () =>
      withRequestScope(() => {
        addLogFields({ leaked: true });
        return serve((req) => {
          seen.push([key.get(), { ...getLogFields() }]);
          return withRequestScope(() => {
            addLogFields({ n: new URL(req.url).pathname });
            return new Response();
          });
        }, local());
      }));
    try {
      for (const path of ["/1", "/2"]) {
        await (await fetch(`http://127.0.0.1:${server.addr.port}${path}`)).body
          ?.cancel();
      }
      assert.deepEqual(seen, [[undefined, {}], [undefined, {}]]);
    } finally {
      await server.shutdown();
    }
  });

  it("answers 500 when a handler returns something that is not a Response", async () => {
    const errors: unknown[] = [];
    await using server = serve(
      (() => undefined) as unknown as () => Response,
      local({ onError: (e) => errors.push(e) }),
    );
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    assert.equal(res.status, 500);
    await res.body?.cancel();
    assert.match(String(errors[0]), /returned undefined instead of a Response/);
  });

  it("runs a close hook registered after shutdown at once", async () => {
    const server = serve(() => new Response(), local());
    await server.shutdown();
    const ran = new Promise<void>((resolve) => server.onClose(resolve));
    await ran;
    assert.ok(true, "the late hook ran");
  });

  it("accepts an infinite grace period and rejects one a timer cannot hold", async () => {
    const server = serve(
      () => new Response(),
      local({ gracePeriod: Infinity }),
    );
    await server.shutdown();
    assert.throws(
      () => serve(() => new Response(), local({ gracePeriod: 3e9 })),
      /gracePeriod/,
    );
  });

  it("rejects a bad port or grace period option", () => {
    assert.throws(
      () => serve(() => new Response(), local({ port: 70000 })),
      /port is not a port/,
    );
    assert.throws(
      () => serve(() => new Response(), local({ gracePeriod: -1 })),
      /gracePeriod/,
    );
  });
});

/** A body that streams a chunk every few ms for ever, and tells when it is cancelled. */
function endless() {
  const chunk = new TextEncoder().encode("tick\n");
  let timer: ReturnType<typeof setTimeout> | undefined;
  let gone = false;
  let cancelled!: (reason: unknown) => void;
  const cancel = new Promise<unknown>((r) => cancelled = r);
  const body = new ReadableStream<Uint8Array>({
    pull: (controller) =>
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          if (!gone) controller.enqueue(chunk);
          resolve();
        }, 2);
      }),
    cancel: (reason) => {
      gone = true;
      clearTimeout(timer);
      cancelled(reason);
    },
  });
  return { body, cancel };
}

/** `promise`, or a rejection saying `what` did not happen within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what} within ${ms} ms`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Reads a body to its end: "ended" when it ends cleanly, else "aborted". */
async function readToEnd(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<{ end: "ended" | "aborted"; bytes: number }> {
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { end: "ended", bytes };
      bytes += value.byteLength;
    }
  } catch {
    return { end: "aborted", bytes };
  }
}

describe("serve cuts streaming bodies at the grace deadline", () => {
  it("cancels an endless body, closes its connection and reports an unclean shutdown", async () => {
    const stream = endless();
    const errors: unknown[] = [];
    const server = serve(
      () => new Response(stream.body),
      local({ gracePeriod: 200, onError: (e) => errors.push(e) }),
    );
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    const reader = res.body!.getReader();
    assert.equal((await reader.read()).done, false, "the body streams");
    const client = readToEnd(reader);

    const started = performance.now();
    const error = await within(
      server.shutdown().then(() => undefined, (e) => e),
      2_000,
      "shutdown did not settle",
    );
    const took = performance.now() - started;
    assert.ok(took < 200 + 300, `shutdown took ${took.toFixed(0)} ms`);
    assert.match(
      String(error),
      /grace period of 200 ms ran out with 1 request/,
      "the shutdown is reported unclean",
    );
    assert.equal(errors.length, 1);
    const reason = await within(stream.cancel, 1_000, "cancel was not called");
    assert.ok(reason !== undefined, "cancel gets a reason");
    const { end } = await within(client, 1_000, "the client's body went on");
    assert.equal(end, "aborted", "an endless body cut short is no clean end");
    await within(server.finished, 1_000, "finished did not settle");
  });

  it("cuts a body the handler hands over after the deadline", async () => {
    const stream = endless();
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => entered = r);
    let release!: () => void;
    const released = new Promise<void>((r) => release = r);
    const server = serve(async () => {
      entered();
      await released;
      return new Response(stream.body);
    }, local({ gracePeriod: 50, onError: () => {} }));
    const answer = fetch(`http://127.0.0.1:${server.addr.port}/`).then(
      (res) => readToEnd(res.body!.getReader()),
      () => ({ end: "aborted" as const, bytes: 0 }),
    );
    await inHandler;
    await assert.rejects(server.shutdown(), /grace period of 50 ms ran out/);
    release();
    await within(stream.cancel, 1_000, "cancel was not called");
    assert.equal(
      (await within(answer, 1_000, "the client went on")).end,
      "aborted",
    );
  });

  it("leaves a long but finite body that ends within the grace period whole", async () => {
    const chunks = 40;
    const size = 16 * 1024;
    let sent = 0;
    let entered!: () => void;
    const streaming = new Promise<void>((r) => entered = r);
    const server = serve(() => {
      entered();
      return new Response(
        new ReadableStream<Uint8Array>({
          pull: (controller) =>
            new Promise<void>((resolve) =>
              setTimeout(() => {
                controller.enqueue(new Uint8Array(size).fill(sent % 251));
                if (++sent === chunks) controller.close();
                resolve();
              }, 2)
            ),
        }),
      );
    }, local({ gracePeriod: 5_000 }));
    const answer = fetch(`http://127.0.0.1:${server.addr.port}/`).then((res) =>
      readToEnd(res.body!.getReader())
    );
    await streaming;
    await server.shutdown(); // resolves: the body ended within the grace period
    assert.deepEqual(await answer, { end: "ended", bytes: chunks * size });
  });

  it("keeps plain and fixed-length bodies as they were", async () => {
    const bodies: Record<string, () => Response> = {
      "/text": () => new Response("hello"),
      "/bytes": () => new Response(new Uint8Array([1, 2, 3])),
      "/json": () => Response.json({ a: 1 }),
      "/blob": () => new Response(new Blob(["blob"])),
      "/empty": () => new Response(null, { status: 204 }),
    };
    await using server = serve(
      (req) => bodies[new URL(req.url).pathname](),
      local(),
    );
    for (const [path, expected] of Object.entries(bodies)) {
      const res = await fetch(`http://127.0.0.1:${server.addr.port}${path}`);
      const want = expected();
      assert.equal(res.status, want.status, path);
      assert.deepEqual(
        new Uint8Array(await res.arrayBuffer()),
        new Uint8Array(await want.arrayBuffer()),
        path,
      );
      if (path !== "/blob" && path !== "/empty") { // neither runtime sends one for those
        assert.equal(
          res.headers.get("content-length"),
          String((await expected().arrayBuffer()).byteLength),
          `${path} keeps its Content-Length`,
        );
      }
    }
  });
});

describe("serve signal handling (child process)", () => {
  const script = new URL("./testdata/graceful_server.ts", import.meta.url);

  it("on SIGTERM finishes the in-flight request, runs hooks in reverse, exits 0", async () => {
    const child = spawnScript(script);
    const port = (await child.line((l) => l.startsWith("port "))).slice(5);
    const slow = fetch(`http://127.0.0.1:${port}/slow?ms=300`);
    await child.line((l) => l === "slow started");
    child.signal("SIGTERM");
    const res = await slow;
    assert.equal(await res.text(), "slow done");
    assert.equal(await child.exited, 0);
    assert.deepEqual(child.lines.slice(-3), [
      "closed second",
      "closed first",
      "finished",
    ]);
  });

  it("on SIGINT past the grace period reports it, runs the hooks and lets the process exit", async () => {
    const child = spawnScript(script, { env: { GRACE_MS: "100" } });
    const port = (await child.line((l) => l.startsWith("port "))).slice(5);
    const slow = fetch(`http://127.0.0.1:${port}/slow?ms=60000`).catch((e) =>
      e
    );
    await child.line((l) => l === "slow started");
    child.signal("SIGINT");
    assert.equal(await child.exited, 1, "an unclean shutdown exits 1 here");
    assert.ok(
      child.lines.some((l) => /grace period of 100 ms ran out/.test(l)),
    );
    assert.ok(child.lines.includes("closed first"));
    await slow;
  });

  it("a second signal skips the rest of the grace period, never kills the drain", async () => {
    const child = spawnScript(script, { env: { GRACE_MS: "60000" } });
    const port = (await child.line((l) => l.startsWith("port "))).slice(5);
    const slow = fetch(`http://127.0.0.1:${port}/slow?ms=60000`).catch((e) =>
      e
    );
    await child.line((l) => l === "slow started");
    child.signal("SIGINT");
    await child.line((l) => l === "got SIGINT");
    child.signal("SIGINT");
    assert.equal(await child.exited, 1, "exits by itself, not by the signal");
    assert.ok(
      child.lines.some((l) => /grace period of 60000 ms ran out/.test(l)),
    );
    assert.ok(child.lines.includes("closed first"));
    await slow;
  });

  it("past the grace period cuts an endless response body and exits 1 by itself", async () => {
    const child = spawnScript(
      new URL("./testdata/endless_server.ts", import.meta.url),
      { env: { GRACE_MS: "100" } },
    );
    const port = (await child.line((l) => l.startsWith("port "))).slice(5);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    const reader = res.body!.getReader();
    await reader.read();
    const client = readToEnd(reader);
    child.signal("SIGTERM");
    const code = await within(child.exited, 5_000, "the process did not exit")
      .catch((error) => {
        child.signal("SIGKILL");
        throw error;
      });
    assert.equal(code, 1, "an unclean shutdown exits 1");
    assert.ok(child.lines.some((l) => l.startsWith("cancelled: ")));
    assert.ok(child.lines.includes("finished"));
    assert.equal((await client).end, "aborted");
  });

  it("a signal after shutdown() began does not kill the process", async () => {
    const child = spawnScript(script);
    const port = (await child.line((l) => l.startsWith("port "))).slice(5);
    // the signal drops the in-flight request: it may fail
    const slow = fetch(`http://127.0.0.1:${port}/slow?ms=300`).catch((e) => e);
    await child.line((l) => l === "slow started");
    await (await fetch(`http://127.0.0.1:${port}/stop`)).text();
    child.signal("SIGTERM");
    assert.equal(typeof await child.exited, "number");
    assert.ok(child.lines.includes("closed first"));
    await slow;
  });
});

describe("serve and the Host header", () => {
  // Sends a request with the Host header exactly as written.
  async function raw(port: number, host: string): Promise<string> {
    const socket = connect({ host: "127.0.0.1", port });
    await once(socket, "connect");
    socket.write(
      `GET /health/%7e HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`,
    );
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => text += chunk);
    await once(socket, "end");
    return text;
  }

  it("answers 400 to a Host that is not host syntax, before the handler", async () => {
    const seen: string[] = [];
    await using server = serve((req) => {
      seen.push(req.url);
      return new Response("ok");
    }, { port: 0, hostname: "127.0.0.1", handleSignals: false });
    const port = server.addr.port;
    for (const host of ["h?x", "h#x", "h\\x", "u@h", "h x"]) {
      const answer = await raw(port, host);
      assert.match(answer, /^HTTP\/1\.1 400/, `Host: ${host}`);
    }
    assert.deepEqual(seen, []);
    for (const host of ["example.com", "127.0.0.1:8080", "[::1]:8080"]) {
      assert.match(await raw(port, host), /^HTTP\/1\.1 200/, `Host: ${host}`);
    }
  });
});
