// Runs fetched records with bounded concurrency: records of one key (or,
// without a key, of one partition) one at a time in offset order, different
// keys in parallel. Shared by every backend, so ordering is the same on all.
import type { IncomingRecord } from "./backends/driver.ts";
import { Slots } from "./slots.ts";

/** Handles one record; rejects only when the consumer stops. */
type Handle = (record: IncomingRecord) => Promise<unknown>;

/** Runs records for a consumer, at most `concurrency` at once across all batches. */
export class Dispatcher {
  readonly #slots: Slots;
  readonly #handle: Handle;

  constructor(concurrency: number, handle: Handle) {
    this.#slots = new Slots(concurrency);
    this.#handle = handle;
  }

  /**
   * Handles `records` (one partition's, in offset order) and resolves with
   * how many of them, counted from the first, were all handled: the driver
   * commits up to there. Fewer than all only when a handler rejected (the
   * consumer is stopping); records queued behind a rejection do not start.
   */
  async run(records: readonly IncomingRecord[]): Promise<number> {
    const lanes = new Map<string, number[]>();
    records.forEach((record, index) => {
      const lane = record.key === undefined
        ? `p${record.partition}`
        : `k${record.key}`;
      const list = lanes.get(lane);
      if (list === undefined) lanes.set(lane, [index]);
      else list.push(index);
    });
    const done = new Uint8Array(records.length);
    let stopped = false;
    await Promise.all(
      [...lanes.values()].map(async (indexes) => {
        for (const index of indexes) {
          if (stopped) return;
          await this.#slots.acquire();
          try {
            if (stopped) return;
            await this.#handle(records[index]);
            done[index] = 1;
          } catch {
            stopped = true;
            return;
          } finally {
            this.#slots.release();
          }
        }
      }),
    );
    const first = done.indexOf(0);
    return first === -1 ? records.length : first;
  }
}
