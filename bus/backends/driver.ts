// What a bus backend implements: raw records in and out. Everything above
// it (encoding, headers, topics, middleware, dead letters, publish
// batching) is shared, so every backend keeps the same semantics.

/** A record to send. */
export interface OutgoingRecord {
  topic: string;
  /** Partitioning key: records of one key keep their order. */
  key: string | undefined;
  value: Uint8Array;
  headers: Record<string, string>;
}

/** A record fetched from a topic. Every field came from outside. */
export interface IncomingRecord {
  topic: string;
  partition: number;
  /** The record's offset in its partition, as a decimal string. */
  offset: string;
  key: string | undefined;
  value: Uint8Array;
  /** Header values decoded as UTF-8 (malformed bytes replaced). */
  headers: Record<string, string>;
  /** Broker time of the record, milliseconds since the epoch. */
  timestamp: number;
  /** Records after this one in its partition when it was fetched, if known. */
  lag: number | undefined;
  /**
   * Delivered as often as the backend allows without an acknowledgement
   * (its handlers crashed or hung each time): dead-letter it unhandled.
   */
  exhausted?: number;
}

/** What a consumer group member consumes. */
export interface ConsumeOptions {
  group: string;
  topics: string[];
  /** Records handled at once: across partitions and keys, never two of one key. */
  concurrency: number;
  /** Where a group with no committed offset starts. */
  from: "earliest" | "latest";
}

/** How a record ended (nothing is `handled`): `dead-lettered` when its handler failed for good. */
export type RecordOutcome = "handled" | "dead-lettered";

/**
 * Handles one record. Resolves when the record may be committed; rejects
 * only when the consumer is stopping before it finished (the record is then
 * not committed, and another member or the next start gets it again).
 */
export type RecordHandler = (
  record: IncomingRecord,
) => Promise<RecordOutcome | void>;

/** A running group membership. */
export interface Consumption {
  /**
   * Stops fetching, waits for records in flight, commits what they finished
   * and leaves the group.
   */
  close(): Promise<void>;
}

/** A bus backend. */
export interface BusDriver {
  /** `memory`, `kafka` or `nats`: for spans and errors. */
  readonly system: string;
  /**
   * Sends records in order; resolves when every one is acknowledged by the
   * broker (all in-sync replicas). Rejects with a `CqiError` (`temporary`,
   * `timeout`, `invalid_input`, ...) when any is not.
   */
  publish(records: OutgoingRecord[]): Promise<void>;
  /** Creates the topics that do not exist. */
  ensureTopics(topics: string[]): Promise<void>;
  /**
   * Joins `options.group` and calls `handle` for each record of the
   * partitions assigned to it, one key at a time in offset order; commits a
   * record's offset only after `handle` resolved for it and every record
   * before it. Resolves once consuming started (the member joined).
   */
  consume(options: ConsumeOptions, handle: RecordHandler): Promise<Consumption>;
  /** Throws when the backend is unreachable. */
  check(signal?: AbortSignal): Promise<void>;
  /** Ends every consumption, then disconnects. */
  close(): Promise<void>;
}
