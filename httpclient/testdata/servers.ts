// Loopback servers for the tests. Not published.
import { createServer, type Socket } from "node:net";
import { once } from "node:events";
import { serve } from "@cqi/http";
import type { Clock } from "@cqi/retry";

/** A server on a loopback port: its URL, and what it counted. */
export interface TestServer {
  url: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A real HTTP server on a free loopback port; `hits` counts requests. */
export function httpServer(
  handler: (req: Request, hit: number) => Response | Promise<Response>,
): TestServer & { readonly hits: number } {
  let hits = 0;
  const server = serve((req) => handler(req, ++hits), {
    port: 0,
    hostname: "127.0.0.1",
    handleSignals: false,
    onListen: () => {},
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get hits() {
      return hits;
    },
    [Symbol.asyncDispose]: async () => await server[Symbol.asyncDispose](),
  };
}

/** A server that answers every request 429 with `Retry-After: retryAfter`. */
export function alwaysTooMany(
  retryAfter: string,
): TestServer & { readonly hits: number } {
  return httpServer(() =>
    new Response(null, {
      status: 429,
      headers: { "retry-after": retryAfter },
    })
  );
}

/**
 * A server that never answers: each request waits until its client aborts.
 * `arrived` resolves once the first request is in.
 */
export function hangingServer(): TestServer & { arrived: Promise<void> } {
  const arrived = Promise.withResolvers<void>();
  const server = httpServer(async (req) => {
    arrived.resolve();
    await new Promise((resolve) =>
      req.signal.addEventListener("abort", resolve)
    );
    return new Response();
  });
  return Object.assign(server, { arrived: arrived.promise });
}

/**
 * A raw TCP server for answers no well-behaved server gives: `onRequest`
 * gets the socket once the request's head has arrived.
 */
export async function rawServer(
  onRequest: (socket: Socket) => void,
): Promise<TestServer & { readonly requests: number }> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (head.includes("\r\n\r\n")) {
        socket.off("data", onData);
        requests++;
        onRequest(socket);
      }
    };
    socket.on("data", onData);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    [Symbol.asyncDispose]: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close").catch(() => {});
    },
  };
}

/** A port nothing listens on (bound, then released). */
export async function deadPort(): Promise<string> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return `http://127.0.0.1:${port}`;
}

/** A clock whose sleeps return at once, advancing time and recording the waits. */
export class InstantClock implements Clock {
  time = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.time += ms;
    return Promise.resolve();
  }
}

/** Everything an error says: its chain of causes, names and messages. */
export function causeText(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, i = 0; e !== undefined && i < 10; i++) {
    parts.push(String(e));
    if (typeof e !== "object" || e === null) break;
    const { name, message, stack } = e as Error;
    parts.push(String(name), String(message), String(stack));
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join("\n");
}
