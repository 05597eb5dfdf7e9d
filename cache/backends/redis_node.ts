// RedisDriver on node-redis (the `redis` package, v6).
//
// Connects eagerly (see ConnectionState). The client's own mechanisms do
// most of the work: `disableOfflineQueue`, a `reconnectStrategy` that never
// gives up (capped at 2 s), and the per-command `timeout` with
// `rejectInFlight`, which also rejects a command already sent (its late
// reply is read and dropped; the connection stays).
//
// What node-redis lacks, the driver adds, by replacing the whole client (it
// has no public way to drop just its socket):
// - a handshake watchdog: node-redis sends HELLO with no timeout, so a
//   server or proxy that accepts and never answers would hold it forever;
// - a dead-connection rule: a call that timed out while nothing else
//   succeeded on the connection since it was sent means a half-open
//   (blackholed) connection, which neither TCP keepalive nor node-redis
//   notices for minutes; the subscriber's connection is probed with PING
//   so that a silent subscription is noticed too.
import { asView } from "./redis_commands.ts";
import { Buffer } from "node:buffer";
import { setTimeout } from "node:timers";
import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  createClient,
  DisconnectsClientError,
  ErrorReply,
  RESP_TYPES,
  SocketClosedUnexpectedlyError,
  TimeoutError,
  TimeoutReadError,
} from "redis";
import { temporary } from "@cqi/errors";
import { Channels } from "./redis_channels.ts";
import { DELETE_IF_EQUALS, px, setArgs } from "./redis_commands.ts";
import { backoff, ConnectionState, probe } from "./redis_connection.ts";
import type { RedisDriver, RedisDriverOptions } from "./redis_driver.ts";
import { type ClientErrors, errorMapper } from "./redis_error.ts";
import { parseRedisUrl, type RedisTarget } from "./redis_url.ts";

const NODE_REDIS_ERRORS: ClientErrors = {
  isReply: (error): error is Error => error instanceof ErrorReply,
  isTimeout: (error) =>
    error instanceof TimeoutError || error instanceof TimeoutReadError,
  isOffline: (error) => error instanceof ClientOfflineError,
  // a client the driver closed or replaced
  isClosed: (error) =>
    error instanceof ClientClosedError ||
    error instanceof DisconnectsClientError,
  describe: (error) =>
    error instanceof SocketClosedUnexpectedlyError
      ? "connection lost"
      : error instanceof ConnectionTimeoutError
      ? "connect timed out"
      : undefined,
};

/**
 * A {@linkcode RedisDriver} on node-redis.
 *
 * @param options Where the server is and how long to wait.
 * @returns The driver; it is connecting already.
 */
export function nodeRedisDriver(options: RedisDriverOptions): RedisDriver {
  const target = parseRedisUrl(options.url);
  const { commandTimeout, name } = options;
  const main = link(() => createNodeClient(target, options, name), options);
  const channels = new Channels();
  let subscriber: Link | undefined;
  let probing: ReturnType<typeof probe> | undefined;
  let closed: Promise<void> | undefined;
  const fail = errorMapper(NODE_REDIS_ERRORS, commandTimeout, () => !!closed);

  // Runs one call on the link's current client, applies the dead-connection
  // rule, maps errors.
  function run<T>(
    command: string,
    on: Link,
    call: (client: Client) => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    const client = on.client;
    return on.state.run(() => call(on.client)).then(
      (value) => {
        on.lastSuccess = performance.now();
        return value;
      },
      (error) => {
        if (
          error instanceof TimeoutReadError && on.client === client &&
          on.lastSuccess < started
        ) {
          on.recycle();
        }
        throw fail(command, error, on.state.lastError);
      },
    );
  }

  function openSubscriber(): Link {
    if (subscriber) return subscriber;
    const subName = name === undefined ? undefined : `${name}:sub`;
    const sub = link(
      () => createNodeClient(target, options, subName),
      options,
      (client) => {
        client.on("ready", () => {
          // The same client resubscribed in its handshake (this finds every
          // channel subscribed); a replacement client subscribes here.
          channels.restore((list) =>
            Promise.all(
              list.map(([channel, dispatch]) =>
                withTimeout(client.subscribe(channel, dispatch), commandTimeout)
              ),
            )
          ).catch((error) => {
            // else the next reconnect tries again
            if (error instanceof TimeoutError && sub.client === client) {
              sub.recycle();
            }
          });
        });
      },
    );
    subscriber = sub;
    probing = probe(commandTimeout, () => {
      if (sub.client.isReady) run("PING", sub, (c) => c.ping()).catch(noop);
    });
    return sub;
  }

  return {
    getMany(keys) {
      if (keys.length === 0) return Promise.resolve([]);
      return run("MGET", main, async (client) => {
        const values = await client.mGet(keys) as (Buffer | null)[];
        // Views of the client's read chunk: the cache copies what it keeps.
        return values.map((v) => v === null ? null : asView(v));
      });
    },
    setMany(entries) {
      if (entries.length === 0) return Promise.resolve();
      return run("SET", main, async (client) => {
        // issued together: one round trip
        await Promise.all(
          setArgs(entries).map(({ key, value, px }) =>
            px === undefined ? client.set(key, value) : client.set(key, value, {
              expiration: { type: "PX", value: px },
            })
          ),
        );
      });
    },
    delete(keys) {
      if (keys.length === 0) return Promise.resolve(0);
      return run("DEL", main, (client) => client.del(keys));
    },
    exists(keys) {
      if (keys.length === 0) return Promise.resolve(0);
      return run("EXISTS", main, (client) => client.exists(keys));
    },
    setIfAbsent(key, token, ttl) {
      return run("SET", main, async (client) => {
        const reply = await client.set(key, token, {
          condition: "NX",
          expiration: { type: "PX", value: px(ttl) },
        });
        return reply !== null;
      });
    },
    deleteIfEquals(key, token) {
      return run("EVAL", main, async (client) => {
        const reply = await client.eval(DELETE_IF_EQUALS, {
          keys: [key],
          arguments: [token],
        });
        return reply === 1;
      });
    },
    publish(channel, message) {
      return run("PUBLISH", main, async (client) => {
        await client.publish(channel, message);
      });
    },
    subscribe(channel, onMessage, onReconnect) {
      if (closed) {
        return Promise.reject(
          temporary("redis SUBSCRIBE failed: client closed"),
        );
      }
      return run("SUBSCRIBE", openSubscriber(), (client) =>
        channels.add(
          channel,
          { onMessage, onReconnect },
          (channel, dispatch) => {
            // SUBSCRIBE skips node-redis' offline check and command timeout
            if (!client.isReady) throw new ClientOfflineError();
            return withTimeout(
              client.subscribe(channel, dispatch),
              commandTimeout,
            );
          },
          (channel, dispatch) => client.unsubscribe(channel, dispatch),
        ));
    },
    ping() {
      return run("PING", main, async (client) => {
        await client.ping();
      });
    },
    close() {
      // destroy, not close: close() waits for replies a dead or stuck server
      // never sends. Pending calls reject at once.
      closed ??= (async () => {
        clearInterval(probing);
        main.close();
        subscriber?.close();
        channels.clear();
        await Promise.resolve();
      })();
      return closed;
    },
  };
}

function noop(): void {}

// Values come back as bytes (pub/sub messages still come as text).
function createNodeClient(
  target: RedisTarget,
  options: RedisDriverOptions,
  name: string | undefined,
) {
  return createClient({
    socket: {
      host: target.host,
      port: target.port,
      ...(target.tls && { tls: true as const, ...target.tls }),
      connectTimeout: options.connectionTimeout,
      reconnectStrategy: backoff,
    },
    username: target.username,
    password: target.password,
    database: target.database,
    name,
    disableOfflineQueue: true,
    // no CLIENT MAINT_NOTIFICATIONS probe in every handshake (open source
    // Redis answers it with an error)
    maintNotifications: "disabled",
    commandOptions: {
      timeout: options.commandTimeout,
      rejectInFlight: true,
      typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer },
    },
  });
}

type Client = ReturnType<typeof createNodeClient>;

/**
 * One logical connection: the current client (replaced when it is found
 * dead) and its state.
 */
interface Link {
  client: Client;
  state: ConnectionState;
  /** When a call last succeeded (performance.now()). */
  lastSuccess: number;
  /** Replaces the client with a new one; its pending calls reject. */
  recycle(): void;
  close(): void;
}

function link(
  make: () => Client,
  options: { connectionTimeout: number; commandTimeout: number },
  onClient?: (client: Client) => void,
): Link {
  let closed = false;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const attach = (client: Client) => {
    // an 'error' without a listener would crash the process
    client.on("error", (error: unknown) => {
      if (l.client !== client) return;
      clearTimeout(watchdog);
      l.state.failed(error);
    });
    client.on("connect", () => {
      // TCP is up; the handshake must finish in time
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        if (l.client === client && !client.isReady) l.recycle();
      }, options.connectionTimeout + options.commandTimeout);
      watchdog.unref();
    });
    client.on("ready", () => {
      if (l.client !== client) return;
      clearTimeout(watchdog);
      l.state.ready();
    });
    onClient?.(client);
    // resolves on the first 'ready'; rejects only when destroyed first
    client.connect().catch(noop);
  };
  const l: Link = {
    client: make(),
    state: new ConnectionState(options.connectionTimeout),
    lastSuccess: performance.now(),
    recycle() {
      if (closed) return;
      const old = l.client;
      clearTimeout(watchdog);
      l.client = make();
      attach(l.client);
      destroy(old);
    },
    close() {
      closed = true;
      clearTimeout(watchdog);
      l.state.close();
      destroy(l.client);
    },
  };
  attach(l.client);
  return l;
}

function destroy(client: Client): void {
  try {
    client.destroy();
  } catch {
    // already destroyed
  }
}

// node-redis' own TimeoutError, so that it maps as a command timeout.
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
