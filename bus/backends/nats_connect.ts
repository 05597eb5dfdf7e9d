// nats.js's `connect` for Node-compatible runtimes, with one change to its
// transport: a socket it lets go (after a refused handshake, a failed dial,
// a close) keeps a listener for "error". nats.js removes every listener and
// destroys the socket; Deno's Node layer may still report the socket's
// reset afterwards, and an "error" event with no listener ends the process.
import {
  type NatsConnection,
  NatsConnectionImpl,
  setTransportFactory,
} from "@nats-io/nats-core/internal";
import type { NodeConnectionOptions } from "@nats-io/transport-node";
import {
  nodeResolveHost,
  NodeTransport,
} from "@nats-io/transport-node/lib/node_transport.js";
import type { Socket } from "node:net";

const ignore = () => {};

/** Keeps a listener for "error" on `socket` whatever its owner removes. */
function keepErrorListener(socket: Socket): void {
  const removeAll = socket.removeAllListeners.bind(socket);
  socket.removeAllListeners =
    ((...names: Parameters<Socket["removeAllListeners"]>) => {
      removeAll(...names);
      if (socket.listenerCount("error") === 0) socket.on("error", ignore);
      return socket;
    }) as Socket["removeAllListeners"];
  socket.on("error", ignore);
}

class GuardedTransport extends NodeTransport {
  override async dial(hp: { hostname: string; port: number }) {
    const socket = await super.dial(hp);
    keepErrorListener(socket);
    return socket;
  }

  override async tlsFirst(hp: { hostname: string; port: number }) {
    const socket = await super.tlsFirst(hp);
    keepErrorListener(socket);
    return socket;
  }

  override async startTLS() {
    const socket = await super.startTLS();
    keepErrorListener(socket);
    return socket;
  }
}

/** Connects like `@nats-io/transport-node`'s `connect`, on the guarded transport. */
export function connect(
  options: NodeConnectionOptions,
): Promise<NatsConnection> {
  setTransportFactory({
    factory: () => new GuardedTransport(),
    dnsResolveFn: nodeResolveHost,
  });
  return NatsConnectionImpl.connect(options);
}
