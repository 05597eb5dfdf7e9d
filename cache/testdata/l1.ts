// Waiting, in tests, for a value to be held in a cache's L1: its
// subscription must be up first, so the cache reads until a read sends no
// command (an L1 hit).
import type { Cache } from "@cqi/cache";
import { json } from "@cqi/codec";

/** Counts the commands a cache sends: spread `hooks` into its options. */
export function commandCounter(): {
  hooks: {
    onCommand: (info: unknown, run: () => Promise<unknown>) => Promise<unknown>;
  };
  count(): number;
} {
  let commands = 0;
  return {
    hooks: { onCommand: (_info, run) => (commands++, run()) },
    count: () => commands,
  };
}

/** Resolves once `key` is an L1 hit of `cache`; fails after `ms`. */
export async function heldInL1(
  cache: Cache,
  key: string,
  commands: () => number,
  ms = 5_000,
): Promise<void> {
  const any = json();
  const giveUp = performance.now() + ms;
  while (performance.now() < giveUp) {
    await cache.find(key, any).catch(() => {});
    const before = commands();
    await cache.find(key, any).catch(() => {});
    if (commands() === before) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${key} was not held in L1 within ${ms} ms`);
}
