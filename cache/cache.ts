import {
  type Codec,
  toCodec,
  type ValueOf,
  type ValueSchema,
} from "@cqi/codec";
import { CqiError, invalidInput, notFound, temporary, wrap } from "@cqi/errors";
import type { RedisDriver, RedisEntry } from "./backends/redis_driver.ts";
import { hookedCommand } from "./command.ts";
import { decodeEntry, encodeEntry, type Entry, VALUE } from "./entry.ts";
import type { CacheEvent, CacheHooks, CommandInfo } from "./hooks.ts";
import { Invalidation } from "./invalidation.ts";
import {
  checkKey,
  type KeyBuilder,
  keyBuilder,
  keyHead,
  namespaceOf,
} from "./key.ts";
import type { L1 } from "./l1.ts";
import { getOrLoad } from "./load.ts";
import { canceledBy } from "./signal.ts";
import { raceSignal } from "@cqi/retry";
import type {
  Cache,
  CacheEntry,
  CallOptions,
  GetOrLoadOptions,
  Loader,
  SetOptions,
} from "./types.ts";

/** Everything a cache is made of, as `createCache` resolves it. */
export interface CacheSettings {
  driver: RedisDriver;
  system: "redis" | "memory";
  serverAddress?: string;
  serverPort?: number;
  service: string;
  keyVersion: number;
  hooks: CacheHooks;
  l1?: L1;
  /** Pub/sub channel of L1 invalidations. */
  channel: string;
  /** Fraction by which TTLs are randomly shortened, in [0, 1). */
  jitter: number;
  random: () => number;
  now: () => number;
  closeTimeout: number;
}

// Longest finite TTL taken (about 4,000 years); longer ones are refused.
const MAX_TTL = 2 ** 47;

/** The cache over a backend driver (memory or Redis), with an optional L1. */
export class CacheClient implements Cache {
  readonly key: KeyBuilder;
  readonly settings: CacheSettings;
  /** getOrLoad's shared loads, by key. */
  readonly flights: Map<string, Promise<Entry>> = new Map();
  /** Keys being refreshed in the background. */
  readonly refreshing: Set<string> = new Set();
  /**
   * A count of writes and deletes per key, kept while loads of the key run:
   * a load stores its value only if no write came after it started.
   */
  readonly #versions = new Map<string, number>();
  /** Aborts loaders' signals once close() stops waiting for them. */
  readonly closing: AbortController = new AbortController();
  readonly #head: string;
  readonly #background = new Set<Promise<unknown>>();
  readonly #invalidation: Invalidation | undefined;
  #closed: Promise<void> | undefined;
  // Set once the driver is closing: no command can run after it.
  #shut = false;

  constructor(settings: CacheSettings) {
    this.settings = settings;
    this.key = keyBuilder(settings.service, settings.keyVersion);
    this.#head = keyHead(settings.service);
    if (settings.l1 !== undefined) {
      this.#invalidation = new Invalidation(
        settings.driver,
        settings.channel,
        settings.l1,
        settings.now,
      );
      // Not tracked: it ends when close() aborts `closing`.
      this.#invalidation.start(
        this.closing.signal,
        (error) => this.tolerated("subscribe", "", error),
      ).catch(() => {});
    }
  }

  async get<S extends ValueSchema>(
    key: string,
    schema: S,
    options?: CallOptions,
  ): Promise<ValueOf<S>> {
    const value = await this.find(key, schema, options);
    if (value === undefined) throw notFound("cache entry", key);
    return value;
  }

  async find<S extends ValueSchema>(
    key: string,
    schema: S,
    options?: CallOptions,
  ): Promise<ValueOf<S> | undefined> {
    this.open();
    checkKey(key);
    const codec = toCodec(schema);
    const entry = await this.read(key, options?.signal);
    return this.isFresh(entry) ? decodeValue(codec, entry) : undefined;
  }

  async getMany<S extends ValueSchema>(
    keys: readonly string[],
    schema: S,
    options?: CallOptions,
  ): Promise<(ValueOf<S> | undefined)[]> {
    this.open();
    if (!Array.isArray(keys)) {
      throw invalidInput("getMany takes an array of keys");
    }
    for (const key of keys) checkKey(key);
    const codec = toCodec(schema);
    if (keys.length === 0) return [];
    if (options?.signal?.aborted) {
      throw canceledBy(options.signal);
    }
    const now = this.settings.now();
    const entries = new Array<Entry | undefined>(keys.length);
    const missing: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const entry = this.#fromL1(keys[i], now);
      if (entry === undefined) missing.push(i);
      else entries[i] = entry;
    }
    if (missing.length > 0) {
      const generation = this.settings.l1?.generation ?? 0;
      const wanted = missing.map((i) => keys[i]);
      const stored = await this.command(
        "get_many",
        wanted[0],
        wanted.length,
        () => this.settings.driver.getMany(wanted),
        options?.signal,
      );
      for (let j = 0; j < missing.length; j++) {
        entries[missing[j]] = this.#fromL2(wanted[j], stored[j], generation);
      }
    }
    const values = new Array<ValueOf<S> | undefined>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const entry = entries[i];
      values[i] = this.isFresh(entry) ? decodeValue(codec, entry) : undefined;
    }
    return values;
  }

  set<S extends ValueSchema>(
    key: string,
    schema: S,
    value: ValueOf<S>,
    options: SetOptions,
  ): Promise<void> {
    return this.setMany([{ key, value }], schema, options);
  }

  async setMany<S extends ValueSchema>(
    entries: readonly CacheEntry<ValueOf<S>>[],
    schema: S,
    options: SetOptions,
  ): Promise<void> {
    this.open();
    if (!Array.isArray(entries)) {
      throw invalidInput("setMany takes an array of { key, value }");
    }
    for (const entry of entries) checkKey(entry?.key);
    const codec = toCodec(schema);
    const ttl = this.ttl(options?.ttl, "ttl");
    if (entries.length === 0) return;
    const until = this.settings.now() + ttl;
    const stored = entries.map(({ key, value }) => ({
      key,
      value: encodeEntry(VALUE, until, until, codec.encode(value)),
      ttl,
    }));
    await this.track(this.write(stored, options.signal));
  }

  delete(
    keys: string | readonly string[],
    options?: CallOptions,
  ): Promise<number> {
    this.open();
    const list = typeof keys === "string" ? [keys] : keys;
    if (!Array.isArray(list)) {
      throw invalidInput("delete takes a key or an array of keys");
    }
    for (const key of list) checkKey(key);
    if (list.length === 0) return Promise.resolve(0);
    return this.track(this.drop(list, options?.signal));
  }

  /** Deletes keys from the backend and from every L1. */
  async drop(keys: string | string[], signal?: AbortSignal): Promise<number> {
    const list = typeof keys === "string" ? [keys] : keys;
    this.#changing(list);
    try {
      return await this.command(
        "delete",
        list[0],
        list.length,
        () => this.settings.driver.delete(list),
        signal,
      );
    } finally {
      await raceSignal(this.invalidate(list), signal).catch(() => {});
    }
  }

  async exists(key: string, options?: CallOptions): Promise<boolean> {
    this.open();
    checkKey(key);
    const count = await this.command(
      "exists",
      key,
      1,
      () => this.settings.driver.exists([key]),
      options?.signal,
    );
    return count > 0;
  }

  async getOrLoad<S extends ValueSchema>(
    key: string,
    schema: S,
    loader: Loader<ValueOf<S>>,
    options: GetOrLoadOptions,
  ): Promise<ValueOf<S>> {
    return await getOrLoad(this, key, toCodec(schema), loader, options);
  }

  check(signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(temporary("cache is closed"));
    return this.command(
      "ping",
      "",
      0,
      () => this.settings.driver.ping(),
      signal,
    );
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- shared with getOrLoad (load.ts) ----

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Throws `temporary` once close() was called. */
  open(): void {
    if (this.#closed !== undefined) throw temporary("cache is closed");
  }

  /** The namespace label of a key. */
  namespace(key: string): string {
    return namespaceOf(key, this.#head, this.settings.keyVersion);
  }

  /** Reports an event to the hooks (a hook that throws is ignored). */
  event(event: CacheEvent): void {
    try {
      this.settings.hooks.onEvent?.(event);
    } catch {
      // An observer's failure must not change what the cache does.
    }
  }

  /** Reports a failure the cache tolerated. */
  tolerated(operation: string, key: string, error: unknown): void {
    if (this.settings.hooks.onEvent === undefined) return;
    this.event({
      type: "error",
      namespace: key === "" ? "" : this.namespace(key),
      operation,
      error: asCqiError(error),
    });
  }

  /** Checks a TTL option and applies the jitter. */
  ttl(value: unknown, name: string): number {
    if (
      typeof value !== "number" || !(value > 0) ||
      (value > MAX_TTL && value !== Infinity)
    ) {
      throw new TypeError(
        `cache: ${name} must be a positive number of milliseconds (at most 2^47) or Infinity`,
      );
    }
    const { jitter } = this.settings;
    if (jitter === 0 || value === Infinity) return value;
    return Math.max(
      1,
      Math.round(value * (1 - jitter * this.settings.random())),
    );
  }

  /**
   * Runs one backend round trip through the hooks, until `signal` (an
   * aborted signal sends nothing).
   */
  command<T>(
    operation: string,
    key: string,
    keys: number,
    run: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (this.#shut) return Promise.reject(temporary("cache is closed"));
    if (signal?.aborted) {
      return Promise.reject(canceledBy(signal));
    }
    const { onCommand } = this.settings.hooks;
    const promise = onCommand === undefined
      ? run()
      : hookedCommand(onCommand, this.#info(operation, key, keys), run);
    return raceSignal(promise, signal, canceledBy);
  }

  /** An entry from L1, then from the backend (filling L1). */
  async read(key: string, signal?: AbortSignal): Promise<Entry | undefined> {
    if (signal?.aborted) {
      throw canceledBy(signal);
    }
    const entry = this.#fromL1(key, this.settings.now());
    if (entry !== undefined) return entry;
    const generation = this.settings.l1?.generation ?? 0;
    const [stored] = await this.command(
      "get",
      key,
      1,
      () => this.settings.driver.getMany([key]),
      signal,
    );
    return this.#fromL2(key, stored, generation);
  }

  /** The backend's entry, without L1 or events (for polling). */
  async peek(key: string): Promise<Entry | undefined> {
    const [stored] = await this.command(
      "get",
      key,
      1,
      () => this.settings.driver.getMany([key]),
    );
    return stored === null ? undefined : decodeEntry(stored);
  }

  /** A fresh entry from L1 (a hit), if there is one. */
  fromL1(key: string): Entry | undefined {
    return this.#fromL1(key, this.settings.now());
  }

  /** A value L1 keeps past its ttl for grace, if there is one. */
  staleFromL1(key: string): Entry | undefined {
    const stored = this.settings.l1?.getStale(key, this.settings.now());
    const entry = stored === undefined ? undefined : decodeEntry(stored);
    return entry?.kind === VALUE ? entry : undefined;
  }

  /**
   * Stores entries, keeps them in L1 and tells the other instances (also
   * when the command failed or was canceled: it may have run).
   */
  async write(stored: RedisEntry[], signal?: AbortSignal): Promise<void> {
    const keys = stored.map((entry) => entry.key);
    this.#changing(keys);
    const { l1 } = this.settings;
    const generation = l1?.generation ?? 0;
    try {
      await this.command(
        stored.length === 1 ? "set" : "set_many",
        stored[0].key,
        stored.length,
        () => this.settings.driver.setMany(stored),
        signal,
      );
    } finally {
      await raceSignal(this.invalidate(keys), signal).catch(() => {});
    }
    if (l1 !== undefined && this.#invalidation?.live) {
      const now = this.settings.now();
      for (const { key, value, ttl } of stored) {
        l1.set(key, value, now, now + ttl, generation);
      }
    }
  }

  /** True for a fresh value. */
  isFresh(entry: Entry | undefined): entry is Entry {
    return entry !== undefined && entry.kind === VALUE &&
      entry.freshUntil > this.settings.now();
  }

  /** How many writes of `key` came since its loads began (see `settle`). */
  version(key: string): number {
    return this.#versions.get(key) ?? 0;
  }

  /** Forgets the count of `key` once no load of it runs. */
  settle(key: string): void {
    if (!this.flights.has(key) && !this.refreshing.has(key)) {
      this.#versions.delete(key);
    }
  }

  /** Keeps a background task (a refresh, a publish) for close() to wait for. */
  track<T>(task: Promise<T>): Promise<T> {
    const settled: Promise<unknown> = task.catch(() => {}).finally(() =>
      this.#background.delete(settled)
    );
    this.#background.add(settled);
    return task;
  }

  /**
   * Drops keys from L1 and tells the other instances to (when L1 is on).
   * Resolves once Redis took the message (it never rejects: a failure is
   * reported as an event).
   */
  invalidate(keys: readonly string[]): Promise<void> {
    const { l1 } = this.settings;
    if (l1 === undefined || this.#invalidation === undefined || this.#shut) {
      return Promise.resolve();
    }
    l1.delete(keys, this.settings.now());
    const message = this.#invalidation.message(keys);
    const published = this.command(
      "publish",
      keys[0],
      keys.length,
      () => this.settings.driver.publish(this.settings.channel, message),
    ).catch((error) => this.tolerated("publish", keys[0], error));
    this.track(published);
    return published;
  }

  // A write or delete of keys a load is running for wins over that load.
  #changing(keys: readonly string[]): void {
    for (const key of keys) {
      if (this.flights.has(key) || this.refreshing.has(key)) {
        this.#versions.set(key, (this.#versions.get(key) ?? 0) + 1);
      }
    }
    this.settings.l1?.delete(keys, this.settings.now());
  }

  #fromL1(key: string, now: number): Entry | undefined {
    const { l1, driver } = this.settings;
    // The memory backend answers at once: the same fast path as an L1.
    const stored = l1 !== undefined
      ? l1.get(key, now)
      : driver.getNow?.(key) ?? undefined;
    if (stored === undefined) return undefined;
    const entry = decodeEntry(stored);
    // A stale entry (kept for grace) is no hit: Redis may have a fresh one.
    if (entry === undefined || entry.freshUntil <= now) return undefined;
    if (entry.kind === VALUE) this.#hit(key, "l1");
    return entry;
  }

  #fromL2(
    key: string,
    stored: Uint8Array | null,
    generation: number,
  ): Entry | undefined {
    const entry = stored === null ? undefined : decodeEntry(stored);
    if (stored !== null && entry === undefined) {
      throw invalidInput(
        `cache entry ${JSON.stringify(key)} is not in CQI's format`,
      );
    }
    const now = this.settings.now();
    if (entry !== undefined && this.#invalidation?.live) {
      // A copy: the driver's bytes are a view of its read buffer.
      this.settings.l1!.set(
        key,
        stored!.slice(),
        now,
        entry.staleUntil,
        generation,
      );
    }
    if (
      entry === undefined || entry.kind !== VALUE || entry.freshUntil <= now
    ) {
      this.#miss(key);
      return entry;
    }
    // The memory backend is in this process: its hits are L1's kind.
    this.#hit(key, this.settings.system === "memory" ? "l1" : "l2");
    return entry;
  }

  #hit(key: string, tier: "l1" | "l2"): void {
    if (this.settings.hooks.onEvent === undefined) return;
    this.event({ type: "hit", namespace: this.namespace(key), tier });
  }

  #miss(key: string): void {
    if (this.settings.hooks.onEvent === undefined) return;
    this.event({ type: "miss", namespace: this.namespace(key) });
  }

  #info(operation: string, key: string, keys: number): CommandInfo {
    const { system, serverAddress, serverPort } = this.settings;
    const info: CommandInfo = {
      operation,
      namespace: key === "" ? "" : this.namespace(key),
      system,
      keys,
    };
    if (serverAddress !== undefined) info.serverAddress = serverAddress;
    if (serverPort !== undefined) info.serverPort = serverPort;
    return info;
  }

  async #close(): Promise<void> {
    // Loads, writes, refreshes, publishes and unlocks, including those that
    // finishing ones start (an unlock after a load), until closeTimeout.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeUp = new Promise<"late">((resolve) =>
      timer = setTimeout(() => resolve("late"), this.settings.closeTimeout)
    );
    while (this.flights.size > 0 || this.#background.size > 0) {
      const waiting = [...this.flights.values(), ...this.#background].map((
        p,
      ) => p.catch(() => {}));
      if (await Promise.race([Promise.all(waiting), timeUp]) === "late") break;
    }
    clearTimeout(timer);
    this.closing.abort(temporary("cache is closed"));
    this.#shut = true;
    await this.settings.driver.close();
  }
}

/**
 * Decodes an entry's bytes, from a copy unless the codec says its values
 * never view them (`fresh`, as `json`'s): a decoded value may be a view of
 * its input (`bytes`, protobuf bytes fields), and the bytes may be kept in
 * L1 or memory, or be the client's read buffer.
 */
export function decodeValue<T>(codec: Codec<T>, entry: Entry): T {
  return codec.fresh === true
    ? codec.decode(entry.bytes)
    : codec.decode(entry.bytes.slice());
}

/** The error as a CqiError, for events. */
export function asCqiError(error: unknown): CqiError {
  return error instanceof CqiError ? error : wrap(error, "cache call failed");
}
