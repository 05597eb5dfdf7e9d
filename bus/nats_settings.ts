// The NATS driver's settings from createBus's options, the config section
// and the URL, checked and with their defaults.
import {
  checkStreamName,
  CONSUMER_DEFAULTS,
  isSubject,
  type NatsDriverOptions,
  STREAM_DEFAULTS,
} from "./backends/nats_options.ts";
import { duration, whole } from "./option_checks.ts";
import type { NatsOptions } from "./types.ts";

/** Longest stream age or duplicate window: a century. */
const CENTURY = 100 * 365 * 24 * 3_600_000;
/** The server's shortest age and duplicate window; the shortest ackWait the bus's `working` keeps. */
const SHORTEST = 100;

function age(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !(value >= SHORTEST) || value > CENTURY) {
    throw new TypeError(
      `createBus: nats.${name} must be milliseconds from ${SHORTEST} to a century`,
    );
  }
  return value;
}

function optionalText(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`createBus: nats.${name} must be a non-empty string`);
  }
  return value;
}

/** Checks `nats` and fills in the defaults. */
export function natsDriverOptions(base: {
  servers: string[];
  clientId: string;
  nats: NatsOptions;
  connectionTimeout: number;
  requestTimeout: number;
}): NatsDriverOptions {
  const n = base.nats;
  if (typeof n !== "object" || n === null) {
    throw new TypeError("createBus: nats must be an object");
  }
  const subjects = n.subjects ?? [...STREAM_DEFAULTS.subjects];
  if (
    !Array.isArray(subjects) || subjects.length === 0 ||
    !subjects.every((s) => isSubject(s, true))
  ) {
    throw new TypeError(
      "createBus: nats.subjects must be a non-empty list of NATS subjects (tokens separated by '.', '*' a whole token, '>' the last)",
    );
  }
  const backoff = n.backoff ?? [];
  if (!Array.isArray(backoff)) {
    throw new TypeError("createBus: nats.backoff must be a list of durations");
  }
  backoff.forEach((d, i) => duration(d, 0, `nats.backoff[${i}]`));
  const maxAge = age(n.maxAge, "maxAge");
  const duplicateWindow = age(n.duplicateWindow, "duplicateWindow");
  if (
    maxAge !== undefined && duplicateWindow !== undefined &&
    duplicateWindow > maxAge
  ) {
    throw new TypeError(
      "createBus: nats.duplicateWindow cannot be longer than nats.maxAge",
    );
  }
  const ackWait = duration(
    n.ackWait,
    CONSUMER_DEFAULTS.ackWait,
    "nats.ackWait",
  );
  if (ackWait < SHORTEST) {
    throw new TypeError(
      `createBus: nats.ackWait must be at least ${SHORTEST} milliseconds`,
    );
  }
  const maxDeliver = n.maxDeliver === undefined
    ? CONSUMER_DEFAULTS.maxDeliver
    : whole(n.maxDeliver, "nats.maxDeliver");
  if (backoff.length > maxDeliver) {
    throw new TypeError(
      "createBus: nats.backoff has more entries than nats.maxDeliver allows deliveries",
    );
  }
  return {
    servers: base.servers,
    clientId: base.clientId,
    username: optionalText(n.username, "username"),
    password: optionalText(n.password, "password"),
    token: optionalText(n.token, "token"),
    connectionTimeout: base.connectionTimeout,
    requestTimeout: base.requestTimeout,
    stream: {
      name: checkStreamName(n.stream ?? STREAM_DEFAULTS.name),
      subjects,
      maxAge,
      maxBytes: n.maxBytes === undefined
        ? undefined
        : whole(n.maxBytes, "nats.maxBytes"),
      maxMessages: n.maxMessages === undefined
        ? undefined
        : whole(n.maxMessages, "nats.maxMessages"),
      replicas: n.replicas === undefined
        ? undefined
        : whole(n.replicas, "nats.replicas", 1, 5),
      duplicateWindow,
    },
    consumer: {
      maxDeliver,
      ackWait,
      maxAckPending: n.maxAckPending === undefined
        ? CONSUMER_DEFAULTS.maxAckPending
        : whole(n.maxAckPending, "nats.maxAckPending"),
      backoff,
    },
  };
}
