// The test implementation of cqc.test.v1.EchoService and the servers the
// tests run it on: a fetch server (`serve` of @cqi/http) and a node:http2
// server (`connectNodeAdapter`), both on port 0 over loopback.
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type {
  ConnectRouter,
  HandlerContext,
  Interceptor,
} from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { findAuthContext } from "@cqi/auth";
import { CqiError, type ErrorKind } from "@cqi/errors";
import { serve } from "@cqi/http";
import { connectHandler } from "../mod.ts";
import {
  type CountRequest,
  EchoService,
  Fault,
} from "../../proto/gen/cqc/test/v1/echo_pb.ts";

/** What the handlers saw, for assertions. */
export interface Seen {
  /** The signal of each Count call, once it started hanging. */
  hanging: ((signal: AbortSignal) => void) | undefined;
  callers: (string | undefined)[];
}

/** A Proxy every look at which throws. */
export function hostileProxy(): unknown {
  const trap = () => {
    throw new Error("proxy trap: secret-proxy");
  };
  return new Proxy({}, {
    get: trap,
    getPrototypeOf: trap,
    has: trap,
    ownKeys: trap,
    getOwnPropertyDescriptor: trap,
  });
}

function fail(fault: Fault, kind: string, secret: string): never {
  switch (fault) {
    case Fault.CQI:
      throw new CqiError(kind as ErrorKind, `public ${kind}`, {
        cause: new Error(`cause ${secret}`),
      });
    case Fault.ERROR:
      throw new Error(`internal ${secret}`, {
        cause: new Error(`cause ${secret}`),
      });
    case Fault.NON_ERROR:
      throw `string ${secret}`;
    case Fault.PROXY:
      throw hostileProxy();
    default:
      throw new Error("unexpected fault");
  }
}

function caller(): string {
  const auth = findAuthContext();
  return auth?.keyId ?? auth?.userId ?? "";
}

/** Registers EchoService, recording into `seen`. */
export function echoRoutes(seen: Seen): (router: ConnectRouter) => void {
  return (router) =>
    router.service(EchoService, {
      async echo(req) {
        await Promise.resolve();
        seen.callers.push(caller());
        if (req.fault !== Fault.UNSPECIFIED) {
          fail(req.fault, req.kind, req.secret);
        }
        return { text: req.text, caller: caller() };
      },
      async *count(req: CountRequest, ctx: HandlerContext) {
        for (let n = 1; n <= req.to; n++) {
          if (req.failAfter !== 0 && n > req.failAfter) {
            fail(req.fault, req.kind, req.secret);
          }
          if (req.hangAfter !== 0 && n > req.hangAfter) {
            seen.hanging?.(ctx.signal);
            await new Promise((resolve) =>
              ctx.signal.addEventListener("abort", resolve, { once: true })
            );
            seen.callers.push(`aborted:${ctx.signal.aborted}`);
            return;
          }
          await Promise.resolve();
          seen.callers.push(caller());
          yield { n };
        }
      },
    });
}

/** A running server. */
export interface TestServer extends AsyncDisposable {
  baseUrl: string;
  seen: Seen;
}

/** EchoService on a fetch server (Connect and gRPC-Web). */
export function fetchServer(interceptors: Interceptor[]): TestServer {
  const seen: Seen = { hanging: undefined, callers: [] };
  const server = serve(connectHandler(echoRoutes(seen), { interceptors }), {
    port: 0,
    hostname: "127.0.0.1",
    handleSignals: false,
    onListen: () => {},
  });
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** Hook for the test clients' HTTP/2 sessions; returns how many it closed. */
let closeClients: (baseUrl: string) => number = () => 0;

/** Sets how {@linkcode http2Server} closes the clients' sessions. */
export function onCloseClients(close: (baseUrl: string) => number): void {
  closeClients = close;
}

/** EchoService on node:http2 (gRPC, gRPC-Web and Connect), cleartext. */
export async function http2Server(
  interceptors: Interceptor[],
): Promise<TestServer> {
  const seen: Seen = { hanging: undefined, callers: [] };
  const server = http2.createServer(
    connectNodeAdapter({ routes: echoRoutes(seen), interceptors }),
  );
  await new Promise<void>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve())
  );
  const { port } = server.address() as AddressInfo;
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    seen,
    [Symbol.asyncDispose]: async () => {
      // Clients first: the server then closes no live session.
      const clients = closeClients(`http://127.0.0.1:${port}`);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if (clients === 0) { for (const s of sessions) s.close(); }
      });
    },
  };
}
