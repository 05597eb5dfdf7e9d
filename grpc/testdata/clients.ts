// The three protocols the tests speak, each with the server it needs.
import type { Interceptor, Transport } from "@connectrpc/connect";
import {
  createGrpcTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import {
  createConnectTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-web";
import {
  fetchServer,
  http2Server,
  onCloseClients,
  type TestServer,
} from "./echo.ts";

/** A protocol: its client transport and the server that serves it. */
export interface Protocol {
  name: "connect" | "grpc-web" | "grpc";
  server(interceptors: Interceptor[]): Promise<TestServer>;
  transport(baseUrl: string, interceptors?: Interceptor[]): Transport;
}

export const PROTOCOLS: readonly Protocol[] = [
  {
    name: "connect",
    server: (interceptors) => Promise.resolve(fetchServer(interceptors)),
    transport: (baseUrl, interceptors) =>
      createConnectTransport({ baseUrl, interceptors }),
  },
  {
    name: "grpc-web",
    server: (interceptors) => Promise.resolve(fetchServer(interceptors)),
    transport: (baseUrl, interceptors) =>
      createGrpcWebTransport({ baseUrl, interceptors }),
  },
  {
    name: "grpc",
    server: http2Server,
    transport: (baseUrl, interceptors) => {
      const sessionManager = new Http2SessionManager(baseUrl);
      clientSessions(baseUrl).add(sessionManager);
      return createGrpcTransport({ baseUrl, interceptors, sessionManager });
    },
  },
];

const sessions = new Map<string, Set<Http2SessionManager>>();

/**
 * The HTTP/2 client sessions opened to `baseUrl`; the test server closes
 * them before itself (on Deno, a server-side GOAWAY on a live client session
 * can abort the process in nghttp2).
 */
export function clientSessions(baseUrl: string): Set<Http2SessionManager> {
  let set = sessions.get(baseUrl);
  if (set === undefined) sessions.set(baseUrl, set = new Set());
  return set;
}

onCloseClients((baseUrl) => {
  const set = sessions.get(baseUrl);
  sessions.delete(baseUrl);
  for (const manager of set ?? []) manager.abort();
  return set?.size ?? 0;
});
