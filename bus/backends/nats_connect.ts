// nats.js's `connect`, with one repair for Deno. nats.js removes every
// listener of a socket it lets go (after a refused handshake, a failed dial,
// a close) and destroys it; Deno's Node layer may still report the socket's
// reset afterwards, and an "error" event nobody listens to ends the process.
// On Deno, every socket nats.js's Node transport opens keeps a listener for
// "error". The transport is patched once, on its prototype, because nats.js
// picks the transport again at each reconnect through a factory the whole
// process shares (the application's own connect() replaces it).
import type { Socket } from "node:net";
import { NodeTransport } from "@nats-io/transport-node/lib/node_transport.js";

export { connect } from "@nats-io/transport-node";

const ignore = () => {};

/** Keeps a listener for "error" on `socket`, whatever its owner removes. */
function keepErrorListener<S extends Socket>(socket: S): S {
  const plain = socket as Socket;
  const removeAll = plain.removeAllListeners.bind(plain);
  // `removeAllListeners(undefined)` removes nothing: the arguments pass as
  // they came.
  plain.removeAllListeners = ((...names: (string | symbol)[]) => {
    removeAll(...names as [string | symbol]);
    if (plain.listenerCount("error") === 0) plain.on("error", ignore);
    return plain;
  }) as Socket["removeAllListeners"];
  plain.on("error", ignore);
  return socket;
}

const GUARDED = Symbol.for("cqi.nats.socket-guard");

if ("Deno" in globalThis) {
  const proto = NodeTransport.prototype as
    & NodeTransport
    & Record<symbol, boolean>;
  if (!proto[GUARDED]) {
    proto[GUARDED] = true;
    const { dial, tlsFirst, startTLS } = proto;
    proto.dial = function (this: NodeTransport, hp) {
      return dial.call(this, hp).then(keepErrorListener);
    };
    proto.tlsFirst = function (this: NodeTransport, hp) {
      return tlsFirst.call(this, hp).then(keepErrorListener);
    };
    proto.startTLS = function (this: NodeTransport) {
      return startTLS.call(this).then(keepErrorListener);
    };
  }
}
