// A broker in this process with Kafka's semantics: partitioned topics
// (records of one key on one partition), consumer groups whose members
// split the partitions, offsets committed after handling, a partition never
// handled by two members at once, and a bounded log per partition.
import { canceled } from "@cqi/errors";
import { Dispatcher } from "../dispatch.ts";
import type {
  BusDriver,
  ConsumeOptions,
  Consumption,
  IncomingRecord,
  OutgoingRecord,
  RecordHandler,
} from "./driver.ts";

/** Settings of a memory broker. */
export interface MemoryOptions {
  /** Partitions of each new topic. */
  partitions: number;
  /** Records kept per partition; older ones are dropped. */
  retention: number;
}

interface Stored {
  key: string | undefined;
  value: Uint8Array;
  headers: Record<string, string>;
  timestamp: number;
}

class Partition {
  /** The offset of `records[0]`. */
  base = 0;
  readonly records: Stored[] = [];
  #wake: (() => void)[] = [];

  get end(): number {
    return this.base + this.records.length;
  }

  append(record: Stored, retention: number): void {
    this.records.push(record);
    if (this.records.length > retention) {
      const dropped = this.records.length - retention;
      this.records.splice(0, dropped);
      this.base += dropped;
    }
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }

  /** Resolves when a record past `offset` arrives or `signal` aborts. */
  waitPast(offset: number, signal: AbortSignal): Promise<void> {
    if (this.end > offset || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#wake.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

class Topic {
  readonly partitions: Partition[];
  #next = 0;

  constructor(partitions: number) {
    this.partitions = Array.from({ length: partitions }, () => new Partition());
  }

  partitionOf(key: string | undefined): number {
    const n = this.partitions.length;
    if (key === undefined) return this.#next++ % n;
    return hash(key) % n;
  }
}

// FNV-1a over the key's UTF-16 units: stable, so a key keeps its partition.
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

interface Member {
  readonly options: ConsumeOptions;
  readonly dispatcher: Dispatcher;
  readonly stopped: AbortController;
  /** Running loops by `topic/partition`. */
  readonly loops: Map<string, { revoke: AbortController; done: Promise<void> }>;
}

class Group {
  readonly members: Member[] = [];
  readonly committed = new Map<string, number>();
  /** Rebalances run one after another. */
  rebalancing: Promise<void> = Promise.resolve();
}

/** One in-process broker; a `memory://name` URL shares it by name. */
export class MemoryBroker {
  readonly options: MemoryOptions;
  readonly topics = new Map<string, Topic>();
  readonly groups = new Map<string, Group>();

  constructor(options: MemoryOptions) {
    this.options = options;
  }

  topic(name: string): Topic {
    let topic = this.topics.get(name);
    if (topic === undefined) {
      topic = new Topic(this.options.partitions);
      this.topics.set(name, topic);
    }
    return topic;
  }

  publish(records: OutgoingRecord[]): void {
    const now = Date.now();
    for (const record of records) {
      const topic = this.topic(record.topic);
      topic.partitions[topic.partitionOf(record.key)].append({
        key: record.key,
        value: record.value.slice(),
        headers: { ...record.headers },
        timestamp: now,
      }, this.options.retention);
    }
  }

  join(member: Member): Promise<void> {
    const group = this.#group(member.options.group);
    group.members.push(member);
    return this.#rebalance(group);
  }

  leave(member: Member): Promise<void> {
    const group = this.#group(member.options.group);
    const index = group.members.indexOf(member);
    if (index !== -1) group.members.splice(index, 1);
    return this.#rebalance(group, member);
  }

  #group(name: string): Group {
    let group = this.groups.get(name);
    if (group === undefined) {
      group = new Group();
      this.groups.set(name, group);
    }
    return group;
  }

  // Assigns each partition of the group's topics to one member (round
  // robin); a partition changing hands is first finished by its old owner.
  #rebalance(group: Group, gone?: Member): Promise<void> {
    const run = async () => {
      const owners = new Map<string, Member>();
      const topics = [
        ...new Set(group.members.flatMap((m) => m.options.topics)),
      ].sort();
      for (const name of topics) {
        const members = group.members.filter((m) =>
          m.options.topics.includes(name)
        );
        this.topic(name).partitions.forEach((_, p) =>
          owners.set(`${name}/${p}`, members[p % members.length])
        );
      }
      const revoked: Promise<void>[] = [];
      for (const member of gone ? [...group.members, gone] : group.members) {
        for (const [id, loop] of member.loops) {
          if (owners.get(id) !== member) {
            loop.revoke.abort();
            revoked.push(loop.done);
            member.loops.delete(id);
          }
        }
      }
      await Promise.all(revoked);
      for (const [id, member] of owners) {
        if (member.loops.has(id) || member.stopped.signal.aborted) continue;
        const slash = id.lastIndexOf("/");
        const revoke = new AbortController();
        member.loops.set(id, {
          revoke,
          done: this.#consume(
            group,
            member,
            id.slice(0, slash),
            Number(id.slice(slash + 1)),
            revoke.signal,
          ),
        });
      }
    };
    return group.rebalancing = group.rebalancing.then(run, run);
  }

  async #consume(
    group: Group,
    member: Member,
    topicName: string,
    index: number,
    revoked: AbortSignal,
  ): Promise<void> {
    const partition = this.topic(topicName).partitions[index];
    const id = `${topicName}/${index}`;
    let offset = group.committed.get(id);
    if (offset === undefined) {
      offset = member.options.from === "latest" ? partition.end : 0;
      group.committed.set(id, offset);
    }
    while (!revoked.aborted) {
      await partition.waitPast(offset, revoked);
      if (revoked.aborted) return;
      // Past retention: resume at the oldest record kept.
      offset = Math.max(offset, partition.base);
      const start = offset - partition.base;
      const batch: IncomingRecord[] = partition.records
        .slice(start, start + 100)
        .map((stored, i) => ({
          topic: topicName,
          partition: index,
          offset: String(offset! + i),
          key: stored.key,
          value: stored.value.slice(),
          headers: { ...stored.headers },
          timestamp: stored.timestamp,
          lag: partition.end - (offset! + i) - 1,
        }));
      const handled = await member.dispatcher.run(batch);
      offset += handled;
      group.committed.set(id, offset);
      if (handled < batch.length) return;
    }
  }
}

/** A driver over `broker`. */
export function memoryDriver(broker: MemoryBroker): BusDriver {
  const consumptions = new Set<Consumption>();
  let closed = false;
  const closedError = () => canceled("bus closed");
  return {
    system: "memory",
    publish(records) {
      if (closed) return Promise.reject(closedError());
      broker.publish(records);
      return Promise.resolve();
    },
    ensureTopics(topics) {
      for (const topic of topics) broker.topic(topic);
      return Promise.resolve();
    },
    async consume(options, handle: RecordHandler): Promise<Consumption> {
      if (closed) throw closedError();
      const member: Member = {
        options,
        dispatcher: new Dispatcher(options.concurrency, handle),
        stopped: new AbortController(),
        loops: new Map(),
      };
      await broker.join(member);
      let closing: Promise<void> | undefined;
      const consumption: Consumption = {
        close() {
          return closing ??= (async () => {
            member.stopped.abort();
            await broker.leave(member);
            consumptions.delete(consumption);
          })();
        },
      };
      consumptions.add(consumption);
      return consumption;
    },
    check() {
      return closed ? Promise.reject(closedError()) : Promise.resolve();
    },
    async close() {
      closed = true;
      await Promise.all([...consumptions].map((c) => c.close()));
    },
  };
}
