// What connectHandler answers itself, outside the interceptors, and how
// the stack records it: red-team defects D2, D3, D6 and D7, on real
// loopback servers.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { serve } from "@cqi/http";
import { createLogger, memorySink } from "@cqi/logging";
import {
  connectHandler,
  type ConnectHandlerOptions,
  grpcStack,
  type RejectedCall,
} from "./mod.ts";
import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
import { filterResponse } from "./protocol_error.ts";

const local = {
  port: 0,
  hostname: "127.0.0.1",
  handleSignals: false,
  onListen: () => {},
};

type Line = Record<string, unknown>;

function start(
  routes: (router: ConnectRouter) => void,
  options: ConnectHandlerOptions = {},
) {
  const sink = memorySink();
  // Each written line wakes whoever waits for one.
  let wake = () => {};
  const write = sink.write;
  sink.write = (line) => {
    write(line);
    wake();
  };
  const logger = createLogger({ output: sink, level: "debug" });
  const server = serve(
    connectHandler(routes, {
      ...options,
      interceptors: grpcStack({ logger }),
    }),
    local,
  );
  const base = `http://127.0.0.1:${server.addr.port}/cqc.test.v1.EchoService`;
  const lines = async (method: string): Promise<Line[]> => {
    await logger.flush();
    return sink.records.filter((r: Line) =>
      r.message === "request completed" && r.rpc_method === method
    );
  };
  // The access lines of `method` once there are `n` of them.
  const waitLines = async (method: string, n: number): Promise<Line[]> => {
    for (;;) {
      const written = new Promise<void>((resolve) => wake = resolve);
      const found = await lines(method);
      if (found.length >= n) return found;
      await written;
    }
  };
  return { server, base, lines, waitLines };
}

function frame(flags: number, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(5 + body.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, body.length);
  out.set(body, 5);
  return out;
}

function latin1(bytes: ArrayBufferLike): string {
  return new TextDecoder("latin1").decode(bytes);
}

// A value whose serialization throws with a secret.
const poison = {
  toString() {
    throw new Error("SECRET-SER");
  },
} as unknown as string;

describe("connectHandler's own errors", () => {
  it("D2: a gRPC-Web request Connect cannot parse is INVALID_ARGUMENT without Connect's text", async () => {
    const { server, base } = start((router) =>
      router.service(EchoService, {
        echo: (req) => ({ text: req.text }),
        async *count() {},
      })
    );
    await using _ = server;
    const res = await fetch(`${base}/Echo`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: frame(0, new Uint8Array([0x0a, 0x05, 0x78])), // premature EOF
    });
    const body = latin1(await res.arrayBuffer());
    assert.ok(!body.includes("premature"), body);
    assert.match(body, /grpc-status: 3\r\n/);
    assert.match(body, /grpc-message: invalid%20request\r\n/);
  });

  it("D2: a response that cannot be serialized is INTERNAL `internal error`, and logged so (unary and stream, Connect and gRPC-Web)", async () => {
    const { server, base, lines } = start((router) =>
      router.service(EchoService, {
        echo: () => ({ text: poison }),
        async *count() {
          yield { n: 1 };
          yield { n: poison as unknown as number };
        },
      })
    );
    await using _ = server;
    const unary = await fetch(`${base}/Echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(unary.status, 500);
    assert.deepEqual(await unary.json(), {
      code: "internal",
      message: "internal error",
    });
    for (
      const [type, body] of [
        ["application/connect+json", frame(0, new TextEncoder().encode("{}"))],
        ["application/grpc-web+proto", frame(0, new Uint8Array())],
      ] as const
    ) {
      const res = await fetch(`${base}/Count`, {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
      const text = latin1(await res.arrayBuffer());
      assert.ok(!text.includes("SECRET"), text);
      assert.match(text, /internal error|internal%20error/);
    }
    const echo = await lines("Echo");
    assert.deepEqual(echo.map((r) => r.grpc_code), ["INTERNAL"]);
    const count = await lines("Count");
    assert.deepEqual(count.map((r) => r.grpc_code), ["INTERNAL", "INTERNAL"]);
  });

  it("D3: limits a request message to 4 MiB by default", async () => {
    const { server, base } = start((router) =>
      router.service(EchoService, {
        echo: (req) => ({ text: String(req.text.length) }),
        async *count() {},
      })
    );
    await using _ = server;
    const call = (size: number) =>
      fetch(`${base}/Echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "x".repeat(size) }),
      });
    const big = await call(5 << 20);
    assert.equal(big.status, 429); // RESOURCE_EXHAUSTED
    assert.equal((await big.json()).code, "resource_exhausted");
    const fits = await call(1 << 20);
    assert.equal(fits.status, 200);
    await fits.body?.cancel();
  });

  it("D3: cuts a deadline longer than a timer can wait to 2^31-1 ms, instead of ending the call at once", async () => {
    const { server, base } = start((router) =>
      router.service(EchoService, {
        echo: (_req, ctx: HandlerContext) => ({
          text: `aborted=${ctx.signal.aborted} ${ctx.timeoutMs()! > 2e9}`,
        }),
        async *count() {},
      })
    );
    await using _ = server;
    const json = async (timeout: string) => {
      const res = await fetch(`${base}/Echo`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "connect-timeout-ms": timeout,
        },
        body: "{}",
      });
      return await res.json();
    };
    assert.deepEqual(await json("3000000000"), { text: "aborted=false true" });
    assert.deepEqual(await json("9999999999"), { text: "aborted=false true" });
    const web = await fetch(`${base}/Echo`, {
      method: "POST",
      headers: {
        "content-type": "application/grpc-web+proto",
        "grpc-timeout": "720H",
      },
      body: frame(0, new Uint8Array()),
    });
    const body = latin1(await web.arrayBuffer());
    assert.match(body, /aborted=false true/);
    assert.match(body, /grpc-status: 0\r\n/);
  });

  it("D3: maxTimeoutMs still refuses longer deadlines", async () => {
    const { server, base } = start((router) =>
      router.service(EchoService, {
        echo: (req) => ({ text: req.text }),
        async *count() {},
      }), { maxTimeoutMs: 1000 });
    await using _ = server;
    const res = await fetch(`${base}/Echo`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "connect-timeout-ms": "5000",
      },
      body: "{}",
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).code, "invalid_argument");
  });

  it("D6: a failure after the deadline is DEADLINE_EXCEEDED; an AbortError of the server's own is INTERNAL and logged", async () => {
    const { server, base, lines } = start((router) =>
      router.service(EchoService, {
        async echo(req, ctx) {
          if (req.text === "own") {
            throw new DOMException("The operation was aborted", "AbortError");
          }
          await new Promise((r) =>
            ctx.signal.addEventListener("abort", r, { once: true })
          );
          throw new DOMException("The operation was aborted", "AbortError");
        },
        async *count() {},
      })
    );
    await using _ = server;
    const call = (text: string) =>
      fetch(`${base}/Echo`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "connect-timeout-ms": "50",
        },
        body: JSON.stringify({ text }),
      });
    const late = await call("late");
    assert.equal(late.status, 504);
    assert.equal((await late.json()).code, "deadline_exceeded");
    const own = await call("own");
    assert.equal(own.status, 500);
    assert.deepEqual(await own.json(), {
      code: "internal",
      message: "internal error",
    });
    const logged = await lines("Echo");
    assert.deepEqual(logged.map((r) => r.grpc_code), [
      "DEADLINE_EXCEEDED",
      "INTERNAL",
    ]);
  });

  it("D7: a unary call the client abandoned is logged CANCELLED, not OK", async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => started = resolve);
    const { server, base, waitLines } = start((router) =>
      router.service(EchoService, {
        async echo(req, ctx) {
          started();
          await new Promise((r) =>
            ctx.signal.addEventListener("abort", r, { once: true })
          );
          return { text: req.text }; // answers anyway
        },
        async *count() {},
      })
    );
    await using _ = server;
    const controller = new AbortController();
    const call = fetch(`${base}/Echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
      signal: controller.signal,
    }).catch((e) => e);
    await running;
    controller.abort();
    await call;
    const [line] = await waitLines("Echo", 1);
    assert.equal(line.grpc_code, "CANCELLED");
  });

  it("D8: tells onRejected of the calls Connect refused before the interceptors", async () => {
    const rejected: RejectedCall[] = [];
    const { server, base, lines } = start(
      (router) =>
        router.service(EchoService, {
          echo: (req) => ({ text: req.text }),
          async *count() {},
        }),
      {
        onRejected: (call) => {
          rejected.push(call);
          throw new Error("a failing hook is ignored");
        },
      },
    );
    await using _ = server;
    const post = async (type: string, body: BodyInit) => {
      const res = await fetch(`${base}/Echo`, {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
      return [res.status, await res.arrayBuffer()] as const;
    };
    assert.equal((await post("application/json", "{bad"))[0], 400);
    assert.equal((await post("text/plain", "x"))[0], 415);
    const [, web] = await post(
      "application/grpc-web+proto",
      frame(0, new Uint8Array([0x0a, 0x05, 0x78])),
    );
    assert.match(latin1(web), /grpc-status: 3\r\n/);
    assert.equal((await post("application/json", "{}"))[0], 200);
    assert.deepEqual(
      rejected.map((r) => [r.service, r.method, r.code]),
      [
        ["cqc.test.v1.EchoService", "Echo", 3],
        ["cqc.test.v1.EchoService", "Echo", 2], // 415: Connect's mapping
        ["cqc.test.v1.EchoService", "Echo", 3],
      ],
    );
    assert.ok(rejected.every((r) => r.request instanceof Request));
    // the call that reached the interceptors has its access line
    assert.equal((await lines("Echo")).length, 1);
  });
});

describe("filterResponse", () => {
  const encode = (text: string) => new TextEncoder().encode(text);
  const chunked = async function* (bytes: Uint8Array, cuts: number[]) {
    let at = 0;
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      yield bytes.slice(at, Math.max(at, cut));
      at = Math.max(at, cut);
    }
    yield bytes.slice(at);
  };
  const read = async (body: AsyncIterable<Uint8Array> | undefined) => {
    const parts: number[] = [];
    for await (const part of body ?? []) parts.push(...part);
    return new Uint8Array(parts);
  };

  it("rewrites the gRPC-Web trailers however the envelopes are cut, passing the messages as they are", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 }),
        fc.array(fc.nat(400), { maxLength: 8 }),
        async (messages, cuts) => {
          const data = messages.map((m) => frame(0, m));
          const trailers = frame(
            0x80,
            encode("grpc-status: 13\r\ngrpc-message: SECRET%20db\r\n"),
          );
          const all = new Uint8Array([
            ...data.flatMap((d) => [...d]),
            ...trailers,
          ]);
          const codes: number[] = [];
          const res = await filterResponse(
            {
              status: 200,
              header: new Headers({
                "content-type": "application/grpc-web+proto",
              }),
              body: chunked(all, cuts),
            },
            true,
            (code) => codes.push(code),
          );
          const out = await read(res.body);
          const kept = data.flatMap((d) => [...d]);
          assert.deepEqual([...out.slice(0, kept.length)], kept);
          const tail = latin1(out.slice(kept.length).buffer);
          assert.equal(out[kept.length], 0x80);
          assert.ok(!tail.includes("SECRET"));
          assert.match(
            tail,
            /grpc-status: 13\r\ngrpc-message: internal%20error\r\n$/,
          );
          assert.deepEqual(codes, [13]);
        },
      ),
    );
  });

  it("rewrites a Connect end-of-stream error and leaves an OK one alone", async () => {
    const end = (json: unknown) => frame(2, encode(JSON.stringify(json)));
    const filter = async (bytes: Uint8Array) =>
      latin1(
        (await read(
          (await filterResponse({
            status: 200,
            header: new Headers({ "content-type": "application/connect+json" }),
            body: chunked(bytes, [3]),
          }, true)).body,
        )).buffer,
      );
    const bad = await filter(
      end({ error: { code: "unknown", message: "SECRET" }, metadata: {} }),
    );
    assert.ok(!bad.includes("SECRET"));
    assert.match(bad, /"code":"unknown","message":"internal error"/);
    const ok = end({ metadata: { a: ["b"] } });
    assert.equal(await filter(ok), latin1(ok.buffer));
  });
});
