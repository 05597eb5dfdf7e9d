import { tooLarge } from "@cqi/errors";
import { Lru, type LruLimits } from "../lru.ts";
import type { RedisDriver, RedisEntry } from "./redis_driver.ts";

/**
 * The memory backend: the {@linkcode RedisDriver} surface over an
 * {@linkcode Lru} in this process. Publish and subscribe reach nobody (there
 * is no other instance to tell).
 */
export function memoryDriver(
  limits: LruLimits,
  now: () => number,
): RedisDriver {
  const lru = new Lru(limits);
  const locks = new Lru({ maxEntries: 100_000, maxBytes: 64 * 1024 * 1024 });
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  return {
    getNow: (key: string) => lru.get(key, now()) ?? null,
    getMany: (keys: string[]) => {
      const time = now();
      const values = new Array<Uint8Array | null>(keys.length);
      for (let i = 0; i < keys.length; i++) {
        values[i] = lru.get(keys[i], time) ?? null;
      }
      return Promise.resolve(values);
    },
    setMany: (entries: RedisEntry[]) => {
      const time = now();
      const large = entries.find(({ key, value }) => !lru.fits(key, value));
      if (large !== undefined) {
        return Promise.reject(tooLarge(
          `cache value of ${large.value.byteLength} bytes exceeds the memory cache's maxBytes`,
        ));
      }
      // Stored as given: the cache hands over arrays it no longer uses, and
      // decodes copies of what it reads.
      for (const { key, value, ttl } of entries) {
        lru.set(key, value, time + ttl);
      }
      return Promise.resolve();
    },
    delete: (keys: string[]) => {
      const time = now();
      let count = 0;
      for (const key of new Set(keys)) if (lru.delete(key, time)) count++;
      return Promise.resolve(count);
    },
    exists: (keys: string[]) => {
      const time = now();
      let count = 0;
      for (const key of keys) if (lru.has(key, time)) count++;
      return Promise.resolve(count);
    },
    setIfAbsent: (key: string, token: string, ttl: number) => {
      const time = now();
      if (locks.has(key, time)) return Promise.resolve(false);
      locks.set(key, encoder.encode(token), time + ttl);
      return Promise.resolve(true);
    },
    deleteIfEquals: (key: string, token: string) => {
      const time = now();
      const held = locks.get(key, time);
      if (held === undefined || decoder.decode(held) !== token) {
        return Promise.resolve(false);
      }
      locks.delete(key, time);
      return Promise.resolve(true);
    },
    publish: () => Promise.resolve(),
    subscribe: () => Promise.resolve(),
    ping: () => Promise.resolve(),
    close: () => {
      lru.clear();
      locks.clear();
      return Promise.resolve();
    },
  };
}
