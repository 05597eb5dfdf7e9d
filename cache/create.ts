import type { CacheConfig } from "@cqi/config";
import type { ServiceIdentity } from "@cqi/http";
import { type Clock, systemClock } from "@cqi/retry";
import { memoryDriver } from "./backends/memory.ts";
import type {
  RedisDriver,
  RedisDriverOptions,
} from "./backends/redis_driver.ts";
import { ioRedisDriver } from "./backends/redis_io.ts";
import { nodeRedisDriver } from "./backends/redis_node.ts";
import { CacheClient } from "./cache.ts";
import type { CacheHooks } from "./hooks.ts";
import { L1, type L1Options } from "./l1.ts";
import type { Cache } from "./types.ts";

/**
 * Options of {@linkcode createCache}. Durations are milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { CacheOptions } from "@cqi/cache";
 *
 * const options: CacheOptions = { service: { name: "cqpm" }, l1: { maxEntries: 1_000 } };
 * ```
 */
export interface CacheOptions extends CacheHooks {
  /** Its name starts every key `key()` builds. Default `app`. */
  service?: ServiceIdentity;
  /** The `v{n}` segment of keys: bump it when values' encoding changes. Default 1. */
  keyVersion?: number;
  /**
   * An in-process tier in front of Redis, kept coherent across instances by
   * invalidations over Redis pub/sub (every instance writing the keys must
   * have it on). Not for `memory://`.
   */
  l1?: L1Options | boolean;
  /** Shortens each TTL by a random fraction up to this (0 to 1), to spread expiries. Default 0. */
  jitter?: number;
  /** Memory backend: most entries kept. Default 10,000. */
  maxEntries?: number;
  /** Memory backend: most bytes of keys and values kept. Default 64 MiB. */
  maxBytes?: number;
  /** Redis: time allowed for one command (default: the config's read and write timeouts, else 3 s). */
  commandTimeout?: number;
  /** Redis: time allowed to connect (default: the config's, else 5 s). */
  connectionTimeout?: number;
  /** How long `close()` waits for running loads. Default 5 s. */
  closeTimeout?: number;
  /** Redis client library. Default `ioredis` (the README says why). */
  client?: "node-redis" | "ioredis";
  /** Time for TTLs and memory expiry (only `now()` is used). Default the system clock. */
  clock?: Clock;
}

const DEFAULT_ENTRIES = 10_000;
const DEFAULT_BYTES = 64 * 1024 * 1024;

/**
 * Opens a cache, chosen by what it is given:
 * - nothing or `memory://`: a bounded LRU in this process (the default of
 *   examples and tests);
 * - a `cache` section of `@cqi/config`, or a `redis://[:password@]host:port/db`
 *   (`rediss://` for TLS) URL: Redis, through one multiplexed connection.
 *
 * Close it with `close()` or `await using`; `check()` (wired to readiness)
 * tells whether Redis answers.
 *
 * @example In memory
 * ```ts
 * import { bytes } from "@cqi/codec";
 * import { createCache } from "@cqi/cache";
 *
 * await using cache = createCache();
 * await cache.set("k", bytes, new Uint8Array([1, 2]), { ttl: 1_000 });
 * console.log(await cache.get("k", bytes)); // Uint8Array(2) [ 1, 2 ]
 * ```
 *
 * @example Redis, from the config
 * ```ts ignore
 * import { mustLoad } from "@cqi/config";
 * import { createCache } from "@cqi/cache";
 *
 * const config = await mustLoad();
 * await using cache = createCache(config.cache ?? "memory://", { service: config.service });
 * ```
 *
 * @param source A config section, a URL, or nothing for memory.
 * @param options Hooks, the service identity, L1, limits and timeouts.
 * @returns The cache.
 */
export function createCache(
  source?: CacheConfig | string | URL,
  options: CacheOptions = {},
): Cache {
  for (const name of ["onCommand", "onEvent"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw new TypeError(`createCache: ${name} must be a function`);
    }
  }
  if (
    options.client !== undefined && options.client !== "ioredis" &&
    options.client !== "node-redis"
  ) {
    throw new TypeError(
      'createCache: client must be "ioredis" or "node-redis"',
    );
  }
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  const common = {
    service: serviceName(options.service),
    keyVersion: whole(options.keyVersion, 1, "keyVersion", 0),
    hooks: { onCommand: options.onCommand, onEvent: options.onEvent },
    jitter: fraction(options.jitter),
    random: Math.random,
    now,
    closeTimeout: options.closeTimeout === 0
      ? 0
      : duration(options.closeTimeout, 5_000, "closeTimeout"),
  };
  const url = source === undefined ? new URL("memory://") : toUrl(source);
  if (
    options.l1 !== undefined && typeof options.l1 !== "boolean" &&
    (typeof options.l1 !== "object" || options.l1 === null)
  ) {
    throw new TypeError(
      "createCache: l1 must be true, false or { maxEntries, maxBytes, ttl }",
    );
  }
  const limits = {
    maxEntries: whole(options.maxEntries, DEFAULT_ENTRIES, "maxEntries", 1),
    maxBytes: whole(options.maxBytes, DEFAULT_BYTES, "maxBytes", 1),
  };
  if (url.protocol === "memory:") {
    if (options.l1) {
      throw new TypeError(
        "createCache: l1 is for Redis; memory:// is in-process already",
      );
    }
    const driver = memoryDriver(limits, now);
    return new CacheClient({
      ...common,
      driver,
      system: "memory",
      channel: "",
    });
  }
  const config = typeof source === "object" && !(source instanceof URL)
    ? source
    : undefined;
  const driverOptions: RedisDriverOptions = {
    url: url.href,
    connectionTimeout: duration(
      options.connectionTimeout ?? config?.connectionTimeout,
      5_000,
      "connectionTimeout",
    ),
    commandTimeout: duration(
      options.commandTimeout ??
        (config && Math.max(config.readTimeout, config.writeTimeout)),
      3_000,
      "commandTimeout",
    ),
    name: common.service,
  };
  const driver: RedisDriver = options.client === "node-redis"
    ? nodeRedisDriver(driverOptions)
    : ioRedisDriver(driverOptions);
  const l1 = options.l1
    ? l1Tier(options.l1 === true ? {} : options.l1)
    : undefined;
  return new CacheClient({
    ...common,
    driver,
    system: "redis",
    serverAddress: url.hostname.replace(/^\[|\]$/g, ""),
    serverPort: Number(url.port || 6379),
    l1,
    channel: `cqi:cache:invalidate:${common.service}`,
  });
}

function toUrl(source: CacheConfig | string | URL): URL {
  if (typeof source === "string" || source instanceof URL) {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      throw new TypeError(
        "createCache: expected a memory://, redis:// or rediss:// URL",
      );
    }
    if (!["memory:", "redis:", "rediss:"].includes(url.protocol)) {
      throw new TypeError(
        `createCache: unsupported scheme ${url.protocol} (expected memory://, redis:// or rediss://)`,
      );
    }
    if (url.protocol !== "memory:" && url.hostname === "") {
      throw new TypeError("createCache: the Redis URL needs a host");
    }
    return url;
  }
  if (
    typeof source !== "object" || source === null ||
    typeof source.host !== "string"
  ) {
    throw new TypeError(
      "createCache: expected a cache config section, a URL or nothing",
    );
  }
  const url = new URL("redis://localhost");
  const host = source.host.includes(":") ? `[${source.host}]` : source.host;
  url.hostname = host;
  // The setter ignores what it refuses: a host it did not take is an error.
  if (url.hostname !== host.toLowerCase() || host === "") {
    throw new TypeError(
      "createCache: the cache section's host is not a host name or an IP address",
    );
  }
  url.port = String(source.port ?? 6379);
  // Percent-encoded whole: the URL setter leaves "%" as it is.
  if (source.password !== undefined) {
    url.password = encodeURIComponent(source.password.reveal());
  }
  url.pathname = `/${source.database ?? 0}`;
  return url;
}

function l1Tier(options: L1Options): L1 {
  return new L1({
    maxEntries: whole(options.maxEntries, DEFAULT_ENTRIES, "l1.maxEntries", 1),
    maxBytes: whole(options.maxBytes, DEFAULT_BYTES, "l1.maxBytes", 1),
  }, duration(options.ttl, 60_000, "l1.ttl"));
}

function serviceName(service: ServiceIdentity | undefined): string {
  if (service === undefined) return "app";
  if (typeof service?.name !== "string" || service.name === "") {
    throw new TypeError("createCache: service.name must be a non-empty string");
  }
  return service.name;
}

function whole(
  value: unknown,
  fallback: number,
  name: string,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    throw new TypeError(
      `createCache: ${name} must be a whole number of at least ${min}`,
    );
  }
  return value as number;
}

function duration(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value > 0) || value > 2 ** 31 - 1) {
    throw new TypeError(
      `createCache: ${name} must be a positive number of milliseconds`,
    );
  }
  return value;
}

function fraction(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !(value >= 0 && value < 1)) {
    throw new TypeError(
      "createCache: jitter must be a number from 0 up to (not including) 1",
    );
  }
  return value;
}
