import type { Codec } from "@cqi/codec";
import { CqiError, isInvalidInput, isNotFound, wrap } from "@cqi/errors";
import { asCqiError, type CacheClient, decodeValue } from "./cache.ts";
import {
  decodeEntry,
  encodeEntry,
  type Entry,
  MISSING,
  VALUE,
} from "./entry.ts";
import { checkKey } from "./key.ts";
import { canceledBy } from "./signal.ts";
import { raceSignal } from "@cqi/retry";
import type { GetOrLoadOptions, Loader } from "./types.ts";

// A lock key cannot come from the key builder: its parts never hold a bare
// "%" not followed by "25" or "3A".
const LOCK_SUFFIX = ":%lock";
// With grace, a hit in the last tenth of its ttl refreshes in the background.
const REFRESH_AHEAD = 0.1;
// Longest message of a remembered not_found, in UTF-16 code units.
const MAX_MESSAGE = 1_024;

interface Settings {
  ttl: number;
  grace: number;
  negativeTtl: number;
  lockTimeout: number;
}

/** The cache-aside read of `Cache.getOrLoad`. */
export async function getOrLoad<T>(
  cache: CacheClient,
  key: string,
  codec: Codec<T>,
  loader: Loader<T>,
  options: GetOrLoadOptions,
): Promise<T> {
  cache.open();
  checkKey(key);
  if (typeof loader !== "function") {
    throw new TypeError("cache: getOrLoad's loader must be a function");
  }
  const settings = parse(cache, options);
  const signal = options.signal;
  if (signal?.aborted) {
    throw canceledBy(signal);
  }
  let entry = cache.fromL1(key);
  if (entry?.kind !== VALUE) {
    entry = await raceSignal(
      shared(cache, key, () => lookup(cache, key, codec, loader, settings)),
      signal,
      canceledBy,
    );
  }
  if (entry.kind === MISSING) throw remembered(entry);
  try {
    const value = decodeValue(codec, entry);
    refreshAhead(cache, key, codec, loader, settings, entry);
    return value;
  } catch (error) {
    // The stored bytes are not this schema's (it changed): load anew, once
    // for all the callers that found them.
    cache.tolerated("decode", key, error);
    const loaded = await raceSignal(
      shared(cache, key, () => load(cache, key, codec, loader, settings)),
      signal,
      canceledBy,
    );
    return decodeValue(codec, loaded);
  }
}

// The load of `key` running in this process, or a new one. It settles
// (temporary) once close() stops waiting for it.
function shared(
  cache: CacheClient,
  key: string,
  run: () => Promise<Entry>,
): Promise<Entry> {
  let flight = cache.flights.get(key);
  if (flight === undefined) {
    flight = raceSignal(run(), cache.closing.signal);
    cache.flights.set(key, flight);
    const done = () => {
      cache.flights.delete(key);
      cache.settle(key);
    };
    flight.then(done, done);
  }
  return flight;
}

function parse(cache: CacheClient, options: GetOrLoadOptions): Settings {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("cache: getOrLoad needs options with a ttl");
  }
  cache.ttl(options.ttl, "ttl");
  return {
    ttl: options.ttl,
    grace: optional(options.grace, "grace", 2 ** 47),
    negativeTtl: optional(options.negativeTtl, "negativeTtl", 2 ** 47),
    lockTimeout: optional(options.lockTimeout, "lockTimeout", 2 ** 31 - 1) ||
      5_000,
  };
}

function optional(value: unknown, name: string, max: number): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !(value >= 0) || value > max) {
    throw new TypeError(`cache: ${name} must be a number of milliseconds`);
  }
  return value;
}

// One process's read: the backend's entry if fresh, else a load (under the
// cross-process lock on Redis).
async function lookup<T>(
  cache: CacheClient,
  key: string,
  codec: Codec<T>,
  loader: Loader<T>,
  settings: Settings,
): Promise<Entry> {
  let stale: Entry | undefined;
  let shareable = cache.settings.system === "redis";
  try {
    const entry = await cache.read(key);
    if (entry !== undefined) {
      if (entry.freshUntil > cache.settings.now()) return entry;
      if (entry.kind === VALUE) stale = entry;
    }
  } catch (error) {
    cache.tolerated("get", key, error);
    // Not CQI's format: overwrite it. Anything else: the backend is failing,
    // so load without it (no lock to take either), with what L1 kept for
    // grace to fall back on.
    if (!isInvalidInput(error)) {
      shareable = false;
      stale = cache.staleFromL1(key);
    }
  }
  let token: string | undefined;
  if (shareable) {
    const waited = await lockOrWait(cache, key, settings, stale);
    if (waited.entry !== undefined) return waited.entry;
    token = waited.token;
  }
  try {
    return await load(cache, key, codec, loader, settings, stale);
  } finally {
    if (token !== undefined) unlock(cache, key, token);
  }
}

// Takes the cross-process lock, or waits for whoever holds it to store the
// value. Resolves { token } to load holding the lock, { entry } when the
// value arrived (or a stale one may be served meanwhile), {} to load anyway.
async function lockOrWait(
  cache: CacheClient,
  key: string,
  settings: Settings,
  stale: Entry | undefined,
): Promise<{ token?: string; entry?: Entry }> {
  const token = crypto.randomUUID();
  const giveUp = performance.now() + settings.lockTimeout;
  let delay = 5;
  while (true) {
    let acquired: boolean;
    try {
      acquired = await lock(cache, key, token, settings.lockTimeout);
    } catch (error) {
      cache.tolerated("lock", key, error);
      return {};
    }
    if (acquired) {
      // Someone may have stored it between our read and the lock.
      const entry = await cache.peek(key).catch(() => undefined);
      if (entry !== undefined && entry.freshUntil > cache.settings.now()) {
        unlock(cache, key, token);
        return { entry };
      }
      return { token };
    }
    if (stale !== undefined) {
      cache.event({ type: "stale", namespace: cache.namespace(key) });
      return { entry: stale };
    }
    if (performance.now() >= giveUp || cache.closed) return {};
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 100);
    try {
      const entry = await cache.peek(key);
      if (entry !== undefined && entry.freshUntil > cache.settings.now()) {
        return { entry };
      }
    } catch (error) {
      cache.tolerated("get", key, error);
      return {};
    }
  }
}

function lock(
  cache: CacheClient,
  key: string,
  token: string,
  ttl: number,
): Promise<boolean> {
  return cache.command(
    "lock",
    key,
    1,
    () =>
      cache.settings.driver.setIfAbsent(
        key + LOCK_SUFFIX,
        token,
        Math.ceil(ttl),
      ),
  );
}

function unlock(cache: CacheClient, key: string, token: string): void {
  cache.track(
    cache.command(
      "unlock",
      key,
      1,
      () => cache.settings.driver.deleteIfEquals(key + LOCK_SUFFIX, token),
    ).catch((error) => cache.tolerated("unlock", key, error)),
  );
}

// Runs the loader and stores what it returns, unless the key was written or
// deleted meanwhile. On failure: a not_found is remembered for negativeTtl
// (and a stale value dropped: the thing is gone); any other error serves
// the stale value if there is one.
async function load<T>(
  cache: CacheClient,
  key: string,
  codec: Codec<T>,
  loader: Loader<T>,
  settings: Settings,
  stale?: Entry,
): Promise<Entry> {
  const namespace = cache.namespace(key);
  const version = cache.version(key);
  const started = performance.now();
  let bytes: Uint8Array;
  try {
    const value = await loader(cache.closing.signal);
    bytes = codec.encode(value);
    codec.decode(bytes.slice()); // a value its own schema refuses is not stored
  } catch (thrown) {
    const error = thrown instanceof Error
      ? thrown
      : wrap(thrown, "cache loader failed");
    const duration = performance.now() - started;
    cache.event({
      type: "load",
      namespace,
      duration,
      error: asCqiError(error),
    });
    if (isNotFound(error)) {
      await forget(cache, key, error, settings, stale, version);
    } else if (stale !== undefined) {
      cache.event({ type: "stale", namespace });
      return stale;
    }
    throw error;
  }
  cache.event({
    type: "load",
    namespace,
    duration: performance.now() - started,
  });
  const ttl = cache.ttl(settings.ttl, "ttl");
  const now = cache.settings.now();
  const stored = encodeEntry(
    VALUE,
    now + ttl,
    now + ttl + settings.grace,
    bytes,
  );
  await store(cache, key, stored, ttl + settings.grace, version);
  return decodeEntry(stored)!;
}

// The loader said not_found: remember that for negativeTtl, or drop the
// stale value the cache holds for the key.
async function forget(
  cache: CacheClient,
  key: string,
  error: Error,
  settings: Settings,
  stale: Entry | undefined,
  version: number,
): Promise<void> {
  if (settings.negativeTtl === 0) {
    if (stale !== undefined && cache.version(key) === version) {
      await cache.drop(key).catch((error) =>
        cache.tolerated("delete", key, error)
      );
    }
    return;
  }
  const message = new TextEncoder().encode(
    String(error.message).slice(0, MAX_MESSAGE),
  );
  const ttl = cache.ttl(settings.negativeTtl, "negativeTtl");
  const until = cache.settings.now() + ttl;
  const entry = encodeEntry(MISSING, until, until, message);
  await store(cache, key, entry, ttl, version);
}

async function store(
  cache: CacheClient,
  key: string,
  value: Uint8Array,
  ttl: number,
  version: number,
): Promise<void> {
  if (cache.version(key) !== version) return; // a newer write won
  try {
    await cache.write([{ key, value, ttl }]);
  } catch (error) {
    cache.tolerated("set", key, error);
  }
}

// The not_found error a MISSING entry remembers.
function remembered(entry: Entry): CqiError {
  const message = new TextDecoder().decode(entry.bytes).slice(0, MAX_MESSAGE);
  return new CqiError("not_found", message || "not found");
}

// With grace, a hit in the last tenth of its ttl reloads in the background
// (at most one refresh per key at a time; across processes, only whoever
// gets the lock).
function refreshAhead<T>(
  cache: CacheClient,
  key: string,
  codec: Codec<T>,
  loader: Loader<T>,
  settings: Settings,
  entry: Entry,
): void {
  if (
    settings.grace === 0 || settings.ttl === Infinity ||
    cache.refreshing.has(key) || cache.closed
  ) return;
  // Only fresh values: a stale one was served because loading just failed.
  const left = entry.freshUntil - cache.settings.now();
  if (left <= 0 || left > settings.ttl * REFRESH_AHEAD) return;
  cache.refreshing.add(key);
  cache.track(
    refresh(cache, key, codec, loader, settings).finally(() => {
      cache.refreshing.delete(key);
      cache.settle(key);
    }),
  );
}

async function refresh<T>(
  cache: CacheClient,
  key: string,
  codec: Codec<T>,
  loader: Loader<T>,
  settings: Settings,
): Promise<void> {
  let token: string | undefined;
  if (cache.settings.system === "redis") {
    token = crypto.randomUUID();
    const acquired = await lock(cache, key, token, settings.lockTimeout)
      .catch((error) => (cache.tolerated("lock", key, error), false));
    if (!acquired) return;
  }
  try {
    await load(cache, key, codec, loader, settings);
  } catch {
    // load() reported it; the current value stays until its grace ends.
  } finally {
    if (token !== undefined) unlock(cache, key, token);
  }
}
