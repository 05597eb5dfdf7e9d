// Which backend a bus source names: a config section or a URL.
import type { EventBusConfig } from "@cqi/config";
import type { NatsOptions } from "./types.ts";

/** A parsed bus source. */
export type BusTarget =
  | { backend: "memory"; name: string; group: string | undefined }
  | { backend: "kafka"; brokers: string[]; group: string | undefined }
  | {
    backend: "nats";
    servers: string[];
    group: string | undefined;
    /** Credentials from the URL, settings and credentials from the config. */
    nats: NatsOptions;
  };

const HOST =
  /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9]([a-zA-Z0-9.-]{0,251}[a-zA-Z0-9])?)$/;

/**
 * Parses `memory://[name]`, `kafka://host:port,host:port`,
 * `nats://[user:password@ | token@]host:port,host:port` or a config section.
 * An error never repeats credentials.
 */
export function parseTarget(
  source: EventBusConfig | string | URL | undefined,
): BusTarget {
  if (source === undefined) {
    return { backend: "memory", name: "", group: undefined };
  }
  if (typeof source === "object" && !(source instanceof URL)) {
    const config = source as EventBusConfig;
    if (config.backend === "memory") {
      return { backend: "memory", name: "", group: config.consumerGroup };
    }
    if (config.backend === "kafka") {
      return {
        backend: "kafka",
        brokers: (config.brokers ?? []).map(broker),
        group: config.consumerGroup,
      };
    }
    if (config.backend === "nats") {
      return {
        backend: "nats",
        servers: (config.brokers ?? []).map((s) => server(s, 4222)),
        group: config.consumerGroup,
        nats: natsSettings(config),
      };
    }
    throw new TypeError(
      `createBus: unknown backend ${
        JSON.stringify(String(config.backend).slice(0, 100))
      } (memory, kafka, nats)`,
    );
  }
  const text = String(source);
  const match = /^([a-z]+):\/\/([^/?#]*)\/?$/.exec(text);
  if (match === null) {
    throw new TypeError(
      "createBus: expected memory://[name], kafka://host:port[,host:port...] or nats://host:port[,host:port...]",
    );
  }
  const [, scheme, rest] = match;
  if (scheme === "memory") {
    if (!/^[a-zA-Z0-9._-]*$/.test(rest)) {
      throw new TypeError(
        "createBus: a memory:// name is letters, digits, '.', '_' and '-'",
      );
    }
    return { backend: "memory", name: rest, group: undefined };
  }
  if (scheme === "kafka") {
    return {
      backend: "kafka",
      brokers: rest.split(",").map(broker),
      group: undefined,
    };
  }
  if (scheme === "nats") return natsTarget(rest);
  throw new TypeError(
    `createBus: unsupported scheme ${
      JSON.stringify(scheme)
    } (memory, kafka, nats)`,
  );
}

// `[user:password@ | token@]host:port,...`: the credentials are taken off
// before anything is checked, so that no error can repeat them.
function natsTarget(rest: string): BusTarget {
  const at = rest.lastIndexOf("@");
  const nats: NatsOptions = {};
  if (at !== -1) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(":");
    try {
      if (colon === -1) nats.token = decodeURIComponent(userinfo);
      else {
        nats.username = decodeURIComponent(userinfo.slice(0, colon));
        nats.password = decodeURIComponent(userinfo.slice(colon + 1));
      }
    } catch {
      throw new TypeError(
        "createBus: the nats:// credentials are not valid percent-encoding",
      );
    }
  }
  return {
    backend: "nats",
    servers: rest.slice(at + 1).split(",").map((s) => server(s, 4222)),
    group: undefined,
    nats,
  };
}

// The NATS settings of a config section; absent ones stay absent.
function natsSettings(config: EventBusConfig): NatsOptions {
  const nats: NatsOptions = {};
  const c = config;
  if (c.username !== undefined) nats.username = c.username;
  if (c.password !== undefined) nats.password = c.password.reveal();
  if (c.token !== undefined) nats.token = c.token.reveal();
  for (
    const name of [
      "stream",
      "subjects",
      "maxAge",
      "maxBytes",
      "maxMessages",
      "replicas",
      "duplicateWindow",
      "maxDeliver",
      "ackWait",
      "maxAckPending",
      "backoff",
    ] as const
  ) {
    if (c[name] !== undefined) {
      (nats as Record<string, unknown>)[name] = c[name];
    }
  }
  return nats;
}

// `host[:port]` with a legal host and a port from 1 to 65535 (default 9092).
function broker(text: string): string {
  return server(text, 9092);
}

function server(text: string, defaultPort: number): string {
  const match = /^(.*?)(?::(\d{1,5}))?$/.exec(String(text).trim());
  const host = match?.[1] ?? "";
  const port = Number(match?.[2] ?? defaultPort);
  if (!HOST.test(host) || !(port >= 1 && port <= 65535)) {
    throw new TypeError(
      `createBus: invalid ${defaultPort === 9092 ? "broker" : "server"} ${
        JSON.stringify(String(text).replace(/^.*@/s, "***@").slice(0, 100))
      }: expected host:port`,
    );
  }
  return `${host}:${port}`;
}
