// Publishes coalesce: calls made while a send is in flight travel together
// in the next one, so a busy publisher batches without its callers noticing
// and a lone one pays no linger. One send at a time keeps their order.
import { canceled, CqiError, kindOf, timeout } from "@cqi/errors";
import type { BusDriver, OutgoingRecord } from "./backends/driver.ts";

interface Pending {
  record: OutgoingRecord;
  size: number;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

/** Most records in one send. */
const MAX_RECORDS = 500;
/** Most bytes (keys, values, headers) in one send, unless one record is larger. */
const MAX_BYTES = 512 * 1024;

/** The send queue of one bus. */
export class Publisher {
  readonly #driver: BusDriver;
  readonly #queue: Pending[] = [];
  #sending: Promise<void> | undefined;

  constructor(driver: BusDriver) {
    this.#driver = driver;
  }

  /**
   * Queues `record`; resolves once the broker acknowledged it. Rejects after
   * `deadline` milliseconds as `timeout`, or as `canceled` when `signal`
   * aborts (its reason the cause, unless a CqiError itself): a record
   * still queued is then never sent, one in flight may still land.
   */
  send(
    record: OutgoingRecord,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const aborted = () => {
      const reason = signal?.reason;
      try {
        if (reason instanceof CqiError) return reason;
      } catch {
        // a reason whose prototype cannot be read: only the cause
      }
      return canceled(`publish to ${record.topic} canceled`, { cause: reason });
    };
    if (signal?.aborted) return Promise.reject(aborted());
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => fail(aborted());
      const timer = setTimeout(
        () =>
          fail(
            timeout(
              `publish to ${record.topic} not acknowledged within ${deadline} ms`,
            ),
          ),
        deadline,
      );
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => {
        pending.settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const fail = (error: unknown) => {
        if (pending.settled) return;
        done();
        reject(error);
      };
      const pending: Pending = {
        record,
        size: sizeOf(record),
        settled: false,
        resolve: () => {
          if (pending.settled) return;
          done();
          resolve();
        },
        reject: fail,
      };
      this.#queue.push(pending);
      this.#sending ??= this.#flush();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  async drain(): Promise<void> {
    while (this.#sending !== undefined) await this.#sending;
  }

  // Sends `batch`, settling each call. A batch refused as invalid, maybe
  // for one record only (too large for its topic), is sent again in halves,
  // down to the records refused, so that no caller is told its record failed
  // for another's, in about 2·log₂n sends; records the broker had taken may
  // land twice.
  async #send(batch: Pending[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.#driver.publish(batch.map((p) => p.record));
      for (const p of batch) p.resolve();
    } catch (error) {
      if (batch.length === 1 || kindOf(error) !== "invalid_input") {
        for (const p of batch) p.reject(error);
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await this.#send(batch.slice(0, half).filter((p) => !p.settled));
      await this.#send(batch.slice(half).filter((p) => !p.settled));
    }
  }

  async #flush(): Promise<void> {
    // Let the calls of this tick join the first send.
    await Promise.resolve();
    while (this.#queue.length > 0) {
      const batch: Pending[] = [];
      let bytes = 0;
      while (this.#queue.length > 0 && batch.length < MAX_RECORDS) {
        const next = this.#queue[0];
        if (next.settled) {
          this.#queue.shift();
          continue;
        }
        if (batch.length > 0 && bytes + next.size > MAX_BYTES) break;
        batch.push(this.#queue.shift()!);
        bytes += next.size;
      }
      await this.#send(batch);
    }
    this.#sending = undefined;
  }
}

function sizeOf(record: OutgoingRecord): number {
  let size = record.value.byteLength + (record.key?.length ?? 0);
  for (const name in record.headers) {
    size += name.length + record.headers[name].length;
  }
  return size;
}
