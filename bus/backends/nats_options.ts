// Settings of a NATS JetStream driver, resolved by createBus (milliseconds),
// and what its parts share.
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

/** What one connection gives. */
export interface Connected {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** Milliseconds as the whole nanoseconds JetStream's API takes. */
export const ns = (ms: number): number => Math.round(ms * 1e6);

/** The header that carries a record's key (NATS messages have none). */
export const KEY_HEADER = "cqi-key";

/** The stream the bus publishes to. */
export interface NatsStreamSettings {
  name: string;
  subjects: string[];
  /** Limits: applied at creation (defaults when absent), and to an existing stream only when given. */
  maxAge: number | undefined;
  maxBytes: number | undefined;
  maxMessages: number | undefined;
  replicas: number | undefined;
  duplicateWindow: number | undefined;
}

/** The durable consumers of the groups. */
export interface NatsConsumerSettings {
  /** Deliveries before the next one is dead-lettered unhandled (the bus counts; the server's max_deliver is unlimited). */
  maxDeliver: number;
  ackWait: number;
  maxAckPending: number;
  backoff: number[];
}

/** What a NATS driver is opened with. */
export interface NatsDriverOptions {
  /** `host:port` of every server. */
  servers: string[];
  /** The connection name servers show (the service name). */
  clientId: string;
  username: string | undefined;
  password: string | undefined;
  token: string | undefined;
  /** Time allowed to connect. */
  connectionTimeout: number;
  /** Time allowed for one request (a publish acknowledgement, an API call). */
  requestTimeout: number;
  stream: NatsStreamSettings;
  consumer: NatsConsumerSettings;
}

/** Stream defaults at creation. */
export const STREAM_DEFAULTS = {
  name: "CQC_EVENTS",
  subjects: ["cqc.events.v1.>"],
  maxAge: 7 * 24 * 3_600_000,
  replicas: 1,
  duplicateWindow: 120_000,
} as const;

/** Consumer defaults. */
export const CONSUMER_DEFAULTS = {
  maxDeliver: 10,
  ackWait: 30_000,
  maxAckPending: 1_000,
} as const;

const NAME = /^[^\s.*>/\\]{1,255}$/;

/** Whether `subject` is a legal NATS subject (wildcards allowed with `wildcards`). */
export function isSubject(subject: string, wildcards: boolean): boolean {
  if (typeof subject !== "string" || subject === "") return false;
  const tokens = subject.split(".");
  return tokens.every((token, i) =>
    token !== "" && !/[\s]/.test(token) &&
    (wildcards
      ? (token === "*" || (token === ">" && i === tokens.length - 1) ||
        !/[*>]/.test(token))
      : !/[*>]/.test(token))
  );
}

/** Whether `subject` (no wildcards) matches `pattern` (maybe with `*` and `>`). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** Checks a stream name; throws a TypeError naming the problem. */
export function checkStreamName(name: unknown): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(
      "createBus: nats.stream must be 1 to 255 characters, without spaces, '.', '*', '>', '/' or '\\'",
    );
  }
  return name;
}
