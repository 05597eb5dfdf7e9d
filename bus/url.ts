// Which backend a bus source names: a config section or a URL.
import type { EventBusConfig } from "@cqi/config";

/** A parsed bus source. */
export type BusTarget =
  | { backend: "memory"; name: string; group: string | undefined }
  | { backend: "kafka"; brokers: string[]; group: string | undefined };

const HOST =
  /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9]([a-zA-Z0-9.-]{0,251}[a-zA-Z0-9])?)$/;

/** Parses `memory://[name]`, `kafka://host:port,host:port` or a config section. */
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
    throw new TypeError(
      `createBus: the ${
        JSON.stringify(String(config.backend))
      } backend is not supported yet (memory, kafka)`,
    );
  }
  const text = String(source);
  const match = /^([a-z]+):\/\/([^/?#]*)\/?$/.exec(text);
  if (match === null) {
    throw new TypeError(
      "createBus: expected memory://[name] or kafka://host:port[,host:port...]",
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
  throw new TypeError(
    `createBus: unsupported scheme ${JSON.stringify(scheme)} (memory, kafka)`,
  );
}

// `host[:port]` with a legal host and a port from 1 to 65535 (default 9092).
function broker(text: string): string {
  const match = /^(.*?)(?::(\d{1,5}))?$/.exec(String(text).trim());
  const host = match?.[1] ?? "";
  const port = Number(match?.[2] ?? 9092);
  if (!HOST.test(host) || !(port >= 1 && port <= 65535)) {
    throw new TypeError(
      `createBus: invalid broker ${
        JSON.stringify(String(text).slice(0, 100))
      }: expected host:port`,
    );
  }
  return `${host}:${port}`;
}
