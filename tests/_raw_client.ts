// A raw TCP client for tests that play a misbehaving HTTP client: bytes go
// out as written, so a test can break the framing or hang up mid-body, which
// `fetch` never does. Not published.
import { connect, type Socket } from "node:net";
import { once } from "node:events";

/** A connection opened by {@linkcode rawClient}. */
export interface RawClient {
  /** Writes `data` as it is; resolves once the socket has taken it. */
  write(data: string): Promise<void>;
  /** Drops the connection at once, as a client that goes away does. */
  destroy(): void;
  /** Everything the server sent, once the connection has closed. */
  closed: Promise<string>;
}

/**
 * Opens a TCP connection to a server on loopback.
 *
 * @example Usage
 * ```ts
 * const client = await rawClient(port);
 * await client.write("POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 9\r\n\r\n{");
 * client.destroy(); // mid-body
 * ```
 */
export async function rawClient(
  port: number,
  hostname = "127.0.0.1",
): Promise<RawClient> {
  const socket: Socket = connect(port, hostname);
  let received = "";
  socket.setEncoding("utf8");
  socket.on("data", (data: string) => received += data);
  // a reset from a server that gave up on the request is expected here
  socket.on("error", () => {});
  // Not events.once: it would reject on that error.
  const closed = new Promise<string>((resolve) =>
    socket.on("close", () => resolve(received))
  );
  await once(socket, "connect");
  return {
    write: (data) =>
      new Promise((resolve, reject) =>
        socket.write(data, (error) => error ? reject(error) : resolve())
      ),
    destroy: () => socket.destroy(),
    closed,
  };
}

/**
 * Plays a client that goes away mid-body: sends `POST path` declaring 100
 * bytes, sends one, waits until `reading` (the handler has started reading
 * the body), then drops the connection.
 */
export async function hangUpMidBody(
  port: number,
  reading: Promise<void>,
  path = "/orders",
): Promise<void> {
  const client = await rawClient(port);
  await client.write(
    `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 100\r\n\r\n{`,
  );
  await reading;
  client.destroy();
}
