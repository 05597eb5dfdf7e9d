// One delivery of one record: the message built from it, the chain run in a
// consumer span whose parent is the publisher's, and a failure turned into
// a dead letter. Resolving means "commit"; rejecting means "the
// subscription is closing and this record was not finished".
import { CqiError, kindOf, permanent } from "@cqi/errors";
import { raceSignal, retry as retryCall } from "@cqi/retry";
import { extract, startSpan } from "@cqi/tracing";
import type {
  BusDriver,
  IncomingRecord,
  RecordOutcome,
} from "./backends/driver.ts";
import { deadLetterHeaders, readEvent } from "./headers.ts";
import { STOPPING } from "./stopping.ts";
import type { Message } from "./types.ts";

/** The raw value of a message not yet decoded, under a private key. */
export const RAW: unique symbol = Symbol("cqi.bus.raw");
/**
 * The message a delivery began with, under a private key: the retry step
 * writes each attempt's number back on it, so that middleware outside the
 * retries (logging, metrics) and the dead letter see the last one.
 */
export const ROOT: unique symbol = Symbol("cqi.bus.root");

/** What a dead letter became, for the bus's `onDeadLetter` hook. */
export interface DeadLetterInfo {
  /** The topic the message came from. */
  topic: string;
  /** The consumer group. */
  group: string;
  /** The failure's kind (`unknown` for an error that is not a `CqiError`). */
  kind: string;
  /**
   * `sent` to the dead-letter topic; `failed`: a send failed and is retried
   * (until it succeeds or the subscription closes); `dropped`: no dead-letter
   * topic is configured, or the broker refused the letter even without its
   * value (then `error` says why).
   */
  outcome: "sent" | "dropped" | "failed";
  /** Why the send failed, for `failed` and a refused `dropped`. */
  error?: unknown;
}

/** What a subscription's deliveries share. */
export interface Delivery {
  driver: BusDriver;
  group: string;
  /** The chain: the bus's middleware, decoding, retry, the caller's, the handler. */
  chain: (message: Message) => Promise<void>;
  deadLetter: string | false;
  /** Aborts (with a `canceled` reason) when the subscription starts closing. */
  stopping: AbortSignal;
  /** Aborts when the closing grace period is over. */
  grace: AbortSignal;
  onDeadLetter: (info: DeadLetterInfo) => void;
}

/** Handles `record`: resolves to commit it, rejects to leave it uncommitted. */
export async function deliver(
  delivery: Delivery,
  record: IncomingRecord,
): Promise<RecordOutcome> {
  // Closing: records not yet started stay uncommitted, for the next owner.
  if (delivery.stopping.aborted) throw delivery.stopping.reason;
  if (record.exhausted !== undefined) {
    // Its handlers never finished (the process died, or they outlived the
    // acknowledgement deadline) that many times: not once more.
    const failure = permanent(
      `not acknowledged after ${record.exhausted} deliveries`,
    );
    await deadLetter(delivery, record, failure, record.exhausted);
    return "dead-lettered";
  }
  const event = readEvent(
    record.headers,
    `${record.topic}/${record.partition}/${record.offset}`,
  );
  const message: Message & {
    [STOPPING]: AbortSignal;
    [RAW]: Uint8Array;
    [ROOT]: { attempt: number };
  } = {
    value: undefined,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key,
    headers: record.headers,
    id: event.id,
    type: event.type,
    time: event.time,
    group: delivery.group,
    attempt: 1,
    lag: record.lag,
    signal: delivery.grace,
    [STOPPING]: delivery.stopping,
    [RAW]: record.value,
    [ROOT]: undefined as unknown as { attempt: number },
  };
  message[ROOT] = message;
  let failure: unknown;
  try {
    const handled = startSpan(
      `process ${record.topic}`,
      () =>
        delivery.chain(message).catch((error) => {
          failure = error;
          throw error;
        }),
      {
        "messaging.system": delivery.driver.system,
        "messaging.operation.type": "process",
        "messaging.destination.name": record.topic,
        "messaging.destination.partition.id": String(record.partition),
        "messaging.consumer.group.name": delivery.group,
        "messaging.message.id": event.id,
      },
      { kind: "consumer", parent: extract(record.headers) },
    );
    // Past the close grace, a handler still running is left behind: its
    // message stays uncommitted, so that close() ends.
    await raceSignal(handled, delivery.grace, () => delivery.stopping.reason);
    return "handled";
  } catch (error) {
    failure ??= error;
  }
  // Closing: a delivery that failed meanwhile (cut short by the close, or by
  // what the close stopped, such as a publish) is not finished and not a
  // dead letter: it stays uncommitted, for the next owner.
  if (delivery.stopping.aborted) throw delivery.stopping.reason;
  await deadLetter(delivery, record, failure, message.attempt);
  return "dead-lettered";
}

// A thrown value may be anything, a Proxy whose traps throw included: what
// the dead letter and the hooks read of it never throws.
function kindOfSafe(error: unknown): string {
  try {
    return kindOf(error) ?? "unknown";
  } catch {
    return "unknown";
  }
}

function publicMessage(error: unknown): string {
  try {
    // A CqiError's message is public by design; any other error's may hold
    // anything, so only its kind travels.
    return error instanceof CqiError ? error.message : "internal error";
  } catch {
    return "internal error";
  }
}

async function deadLetter(
  delivery: Delivery,
  record: IncomingRecord,
  failure: unknown,
  attempts: number,
): Promise<void> {
  const kind = kindOfSafe(failure);
  const base = { topic: record.topic, group: delivery.group, kind };
  if (delivery.deadLetter === false) {
    report(delivery, { ...base, outcome: "dropped" });
    return;
  }
  const described = failureOf(record, delivery.group, kind, failure, attempts);
  const headers = deadLetterHeaders(record.headers, described);
  const letters = [
    {
      topic: delivery.deadLetter,
      key: record.key,
      value: record.value,
      headers,
    },
    // When the broker refuses the letter itself as invalid (too large with
    // the failure headers added), the failure alone: the bus's headers, no
    // value, a bounded key; rather than a partition stuck for ever.
    {
      topic: delivery.deadLetter,
      key: record.key !== undefined && record.key.length <= 256
        ? record.key
        : undefined,
      value: new Uint8Array(0),
      headers: {
        ...deadLetterHeaders({}, described),
        ce_id: (record.headers.ce_id ?? "").slice(0, 256),
        ce_type: (record.headers.ce_type ?? "").slice(0, 256),
        "cqi-value-dropped": String(record.value.byteLength),
      },
    },
  ];
  let refused: unknown;
  for (const letter of letters) {
    try {
      // Any other failure is retried until the send succeeds or the
      // subscription closes (then the message stays uncommitted): a missing
      // ACL or a broker in trouble never loses a message.
      await retryCall(() => delivery.driver.publish([letter]), {
        maxAttempts: Infinity,
        initialDelay: 100,
        maxDelay: 10_000,
        retryIf: (error) => kindOfSafe(error) !== "invalid_input",
        signal: delivery.stopping,
        onRetry: ({ error }) =>
          report(delivery, { ...base, outcome: "failed", error }),
      });
      report(delivery, { ...base, outcome: "sent" });
      return;
    } catch (error) {
      if (delivery.stopping.aborted) throw delivery.stopping.reason;
      refused = error;
    }
  }
  report(delivery, { ...base, outcome: "dropped", error: refused });
}

function failureOf(
  record: IncomingRecord,
  group: string,
  kind: string,
  failure: unknown,
  attempts: number,
) {
  return {
    kind,
    message: publicMessage(failure),
    attempts,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    group,
  };
}

function report(delivery: Delivery, info: DeadLetterInfo): void {
  callHook(delivery.onDeadLetter, info);
}

/** Calls a hook; its throw, or its promise's rejection, changes nothing. */
export function callHook<T>(hook: (info: T) => unknown, info: T): void {
  try {
    const result = hook(info) as { then?: unknown } | undefined;
    if (typeof result?.then === "function") {
      (result as Promise<unknown>).then(undefined, () => {});
    }
  } catch {
    // a hook's failure changes nothing
  }
}
