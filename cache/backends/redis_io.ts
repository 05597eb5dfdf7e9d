// RedisDriver on ioredis (v6).
//
// Connects eagerly (see ConnectionState). The client's own mechanisms do the
// work: `enableOfflineQueue: false`, `maxRetriesPerRequest: 0` (a command
// in flight when the connection drops fails instead of being resent), a
// `retryStrategy` that never gives up (capped at 2 s), and `commandTimeout`,
// which rejects a command already sent (the command stays in ioredis' reply
// queue; its late reply is read and dropped). Added: `socketTimeout`, which
// drops a connection that has gone silent (half-open after a network
// failure), and a PING probe on the subscriber's connection, without which
// a silent subscription would go unnoticed.
import { asView } from "./redis_commands.ts";
import { setTimeout } from "node:timers";
import { Redis, type RedisOptions } from "ioredis";
import { temporary } from "@cqi/errors";
import { Channels } from "./redis_channels.ts";
import { DELETE_IF_EQUALS, px, setArgs } from "./redis_commands.ts";
import { backoff, ConnectionState, probe } from "./redis_connection.ts";
import type { RedisDriver, RedisDriverOptions } from "./redis_driver.ts";
import { type ClientErrors, errorMapper } from "./redis_error.ts";
import { parseRedisUrl } from "./redis_url.ts";

// ioredis tells its errors apart by message.
const messageOf = (error: unknown) =>
  error instanceof Error ? error.message : "";
const isReply = (error: unknown): error is Error =>
  (error as { name?: unknown } | null)?.name === "ReplyError";

const IOREDIS_ERRORS: ClientErrors = {
  isReply,
  isTimeout: (error) => messageOf(error) === "Command timed out",
  isOffline: (error) => messageOf(error).startsWith("Stream isn't writeable"),
  isClosed: (error) => messageOf(error) === "Connection is closed.",
  describe: (error) =>
    (error as { name?: unknown })?.name === "MaxRetriesPerRequestError" ||
      messageOf(error).startsWith("Command aborted due to connection close")
      ? "connection lost"
      : messageOf(error).startsWith("Socket timeout")
      ? "server silent"
      : undefined,
};

/**
 * A {@linkcode RedisDriver} on ioredis.
 *
 * @param options Where the server is and how long to wait.
 * @returns The driver; it is connecting already.
 */
export function ioRedisDriver(options: RedisDriverOptions): RedisDriver {
  const target = parseRedisUrl(options.url);
  const { commandTimeout, name } = options;
  const clientOptions = (name: string | undefined): RedisOptions => ({
    host: target.host,
    port: target.port,
    ...(target.tls && { tls: { ...target.tls } }),
    username: target.username,
    password: target.password,
    db: target.database,
    connectionName: name,
    connectTimeout: options.connectionTimeout,
    commandTimeout,
    // no byte from the server for this long while a reply is due: the
    // connection is dead (half-open), drop it and reconnect. (A timed-out
    // command alone keeps the connection; TCP keepalive takes minutes.)
    socketTimeout: commandTimeout + 100,
    // a close() that finds the server stuck does not wait longer
    disconnectTimeout: Math.min(commandTimeout, 1_000),
    // ioredis counts attempts from 1
    retryStrategy: (attempt) => backoff(attempt - 1),
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    // the subscriber resubscribes itself, to know when it is done
    autoResubscribe: false,
    maintNotifications: "disabled",
    lazyConnect: false,
  });

  const main = watch(
    // commands issued in the same tick go out in one write (2-3x the
    // throughput of concurrent callers; node-redis does this by default)
    new Redis({ ...clientOptions(name), enableAutoPipelining: true }),
    options.connectionTimeout,
  );
  const client = main.client;
  const channels = new Channels();
  let subscriber: Watched | undefined;
  let probing: ReturnType<typeof probe> | undefined;
  let closed: Promise<void> | undefined;
  const fail = errorMapper(IOREDIS_ERRORS, commandTimeout, () => !!closed);

  // Runs one call, maps errors.
  function run<T>(
    command: string,
    on: Watched,
    call: () => Promise<T>,
  ): Promise<T> {
    return on.state.run(call).catch((error) => {
      scrub(error);
      scrub(on.state.lastError);
      throw fail(command, error, on.state.lastError);
    });
  }

  function openSubscriber(): Watched {
    if (subscriber) return subscriber;
    const subName = name === undefined ? undefined : `${name}:sub`;
    const sub = watch(
      new Redis(clientOptions(subName)),
      options.connectionTimeout,
    );
    subscriber = sub;
    probing = probe(commandTimeout, () => {
      if (sub.client.status === "ready") {
        run("PING", sub, () => sub.client.ping()).catch(() => {});
      }
    });
    sub.client.on("message", (channel: string, message: string) => {
      channels.deliver(channel, message);
    });
    sub.client.on("ready", () => {
      channels.restore((list) =>
        sub.client.subscribe(...list.map(([channel]) => channel))
      ).catch((error) => {
        // not subscribed on this connection: start another (unless the
        // server refused, which another connection will not change)
        if (!closed && !isReply(error)) sub.client.disconnect(true);
      });
    });
    return sub;
  }

  return {
    getMany(keys) {
      if (keys.length === 0) return Promise.resolve([]);
      return run("MGET", main, async () => {
        const values = await client.mgetBuffer(keys);
        // Views of the client's read chunk: the cache copies what it keeps.
        return values.map((v) => v === null ? null : asView(v));
      });
    },
    setMany(entries) {
      if (entries.length === 0) return Promise.resolve();
      return run("SET", main, async () => {
        // issued together, auto-pipelined: one round trip
        await Promise.all(
          setArgs(entries).map(({ key, value, px }) =>
            px === undefined
              ? client.set(key, value)
              : client.set(key, value, "PX", px)
          ),
        );
      });
    },
    delete(keys) {
      if (keys.length === 0) return Promise.resolve(0);
      return run("DEL", main, () => client.del(...keys));
    },
    exists(keys) {
      if (keys.length === 0) return Promise.resolve(0);
      return run("EXISTS", main, () => client.exists(...keys));
    },
    setIfAbsent(key, token, ttl) {
      return run("SET", main, async () => {
        const reply = await client.set(key, token, "PX", px(ttl), "NX");
        return reply !== null;
      });
    },
    deleteIfEquals(key, token) {
      return run("EVAL", main, async () => {
        const reply = await client.eval(DELETE_IF_EQUALS, 1, key, token);
        return reply === 1;
      });
    },
    publish(channel, message) {
      return run("PUBLISH", main, async () => {
        await client.publish(channel, message);
      });
    },
    subscribe(channel, onMessage, onReconnect) {
      if (closed) {
        return Promise.reject(
          temporary("redis SUBSCRIBE failed: client closed"),
        );
      }
      const sub = openSubscriber();
      return run("SUBSCRIBE", sub, () =>
        channels.add(
          channel,
          { onMessage, onReconnect },
          // offline check and commandTimeout apply, as to any command
          (channel) => sub.client.subscribe(channel),
          (channel) => sub.client.unsubscribe(channel),
        ));
    },
    ping() {
      return run("PING", main, async () => {
        await client.ping();
      });
    },
    close() {
      closed ??= (async () => {
        clearInterval(probing);
        channels.clear();
        await Promise.all([main.close(), subscriber?.close()]);
      })();
      return closed;
    },
  };
}

/** A client, its state, and its listeners for that state. */
interface Watched {
  client: Redis;
  state: ConnectionState;
  /** Disconnects; resolves when ioredis has ended (pending calls settled). */
  close(): Promise<void>;
}

function watch(client: Redis, connectionTimeout: number): Watched {
  const state = new ConnectionState(connectionTimeout);
  // ioredis prints an 'error' nobody listens to; the driver keeps it
  client.on("error", (error: unknown) => state.failed(error));
  client.on("ready", () => state.ready());
  return {
    client,
    state,
    async close() {
      state.close();
      if (client.status === "end") return;
      const ended = new Promise<void>((resolve) => {
        // ioredis ends within its disconnectTimeout; the timer is a guard
        const timer = setTimeout(resolve, 2_000);
        client.once("end", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      client.disconnect();
      await ended;
    },
  };
}

// ioredis hangs the command's arguments (keys, values, tokens) on its
// errors, where a log of the cause would print them: keep the name only.
function scrub(error: unknown): void {
  const command = (error as { command?: { name?: unknown } } | null)?.command;
  if (command && typeof command === "object") {
    (error as { command: unknown }).command = { name: command.name };
  }
}
