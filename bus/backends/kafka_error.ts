// Maps kafkajs's errors to CqiError kinds. The message names the operation
// and the topics (never a key or a payload, never a broker address: it may
// reach a client); kafkajs's own error is kept as the cause, for logs.
import {
  CqiError,
  invalidInput,
  permanent,
  temporary,
  unauthorized,
} from "@cqi/errors";
import { where } from "./where.ts";

/** Broker error codes (kafkajs `type`) that a retry may fix. */
const TEMPORARY_TYPES: ReadonlySet<string> = new Set([
  "BROKER_NOT_AVAILABLE",
  "CONCURRENT_TRANSACTIONS",
  "COORDINATOR_LOAD_IN_PROGRESS",
  "COORDINATOR_NOT_AVAILABLE",
  "CORRUPT_MESSAGE",
  "ELIGIBLE_LEADERS_NOT_AVAILABLE",
  "FENCED_LEADER_EPOCH",
  "FETCH_SESSION_ID_NOT_FOUND",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "GROUP_LOAD_IN_PROGRESS",
  "ILLEGAL_GENERATION",
  "INVALID_FETCH_SESSION_EPOCH",
  "KAFKA_STORAGE_ERROR",
  "LEADER_NOT_AVAILABLE",
  "LISTENER_NOT_FOUND",
  "NETWORK_EXCEPTION",
  "NOT_CONTROLLER",
  "NOT_COORDINATOR",
  "NOT_COORDINATOR_FOR_GROUP",
  "NOT_ENOUGH_REPLICAS",
  "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
  "NOT_LEADER_FOR_PARTITION",
  "NOT_LEADER_OR_FOLLOWER",
  "OFFSET_NOT_AVAILABLE",
  "PREFERRED_LEADER_NOT_AVAILABLE",
  "REBALANCE_IN_PROGRESS",
  "REPLICA_NOT_AVAILABLE",
  "REQUEST_TIMED_OUT",
  "UNKNOWN_LEADER_EPOCH",
  "UNKNOWN_MEMBER_ID",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "UNSTABLE_OFFSET_COMMIT",
]);

/** Broker error codes that blame what was sent: a record, a topic, a group. */
const INVALID_INPUT_TYPES: ReadonlySet<string> = new Set([
  "INVALID_GROUP_ID",
  "INVALID_PARTITIONS",
  "INVALID_RECORD",
  "INVALID_REPLICATION_FACTOR",
  "INVALID_TIMESTAMP",
  "INVALID_TOPIC_EXCEPTION",
  "MESSAGE_TOO_LARGE",
  "OFFSET_METADATA_TOO_LARGE",
  "POLICY_VIOLATION",
  "RECORD_LIST_TOO_LARGE",
  "UNSUPPORTED_COMPRESSION_TYPE",
]);

/** Broker error codes of authentication and authorization. */
const UNAUTHORIZED_TYPES: ReadonlySet<string> = new Set([
  "CLUSTER_AUTHORIZATION_FAILED",
  "DELEGATION_TOKEN_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "ILLEGAL_SASL_STATE",
  "SASL_AUTHENTICATION_FAILED",
  "TOPIC_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
  "UNSUPPORTED_SASL_MECHANISM",
]);

/** kafkajs error names of the network and of its own request deadlines. */
const TEMPORARY_NAMES: ReadonlySet<string> = new Set([
  "KafkaJSBrokerNotFound",
  "KafkaJSConnectionClosedError",
  "KafkaJSConnectionError",
  "KafkaJSGroupCoordinatorNotFound",
  "KafkaJSLockTimeout",
  "KafkaJSMetadataNotLoaded",
  "KafkaJSNoBrokerAvailableError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSStaleTopicMetadataAssignment",
  "KafkaJSTimeout",
  "KafkaJSTopicMetadataNotLoaded",
]);

/** Node's socket error codes, should one reach us unwrapped. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
]);

interface Described {
  type?: unknown;
  name?: unknown;
  code?: unknown;
  retriable?: unknown;
  cause?: unknown;
  message?: unknown;
  errors?: unknown;
}

/**
 * The error that says what happened: kafkajs wraps the last attempt's error
 * in `KafkaJSNumberOfRetriesExceeded` or `KafkaJSNonRetriableError` (as
 * `cause`), and a request about several topics in `KafkaJSAggregateError`
 * (`errors`, of which the first one that is not "already exists").
 */
function innermost(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 8; depth++) {
    if (typeof current !== "object" || current === null) return current;
    const e = current as Described;
    if (Array.isArray(e.errors) && e.errors.length > 0) {
      current = e.errors.find((x) =>
        (x as Described | null)?.type !== "TOPIC_ALREADY_EXISTS"
      ) ?? e.errors[0];
      continue;
    }
    if (
      (e.name === "KafkaJSNumberOfRetriesExceeded" ||
        e.name === "KafkaJSNonRetriableError") &&
      e.cause !== undefined && e.cause !== current
    ) {
      current = e.cause;
      continue;
    }
    return current;
  }
  return current;
}

/**
 * Maps an error of kafkajs (or of the socket under it) to a `CqiError`:
 * `temporary` for the network, leaders, coordinators, rebalances and request
 * timeouts; `invalid_input` for a record too large or an invalid topic;
 * `unauthorized` for SASL and ACL failures; `permanent` for the rest. A
 * `CqiError` passes through unchanged.
 *
 * @param error What kafkajs threw.
 * @param operation What was being done, such as `publish` or `consume`.
 * @param topics The topics concerned, named in the message.
 * @returns The error to throw, with `error` as its cause.
 */
export function kafkaError(
  error: unknown,
  operation: string,
  topics: readonly string[] = [],
): CqiError {
  if (error instanceof CqiError) return error;
  const prefix = where("kafka", operation, topics);
  const inner = innermost(error);
  const e =
    (typeof inner === "object" && inner !== null ? inner : {}) as Described;
  const type = typeof e.type === "string" ? e.type : undefined;
  const name = typeof e.name === "string" ? e.name : undefined;
  const options = { cause: error };
  if (type !== undefined) {
    if (UNAUTHORIZED_TYPES.has(type)) {
      return unauthorized(`${prefix} failed: ${type}`, options);
    }
    if (INVALID_INPUT_TYPES.has(type)) {
      return invalidInput(`${prefix} failed: ${type}`, options);
    }
    if (TEMPORARY_TYPES.has(type)) {
      return temporary(`${prefix} failed: ${type}`, options);
    }
    if (type !== "KAFKAJS_UNKNOWN_ERROR_CODE" && type !== "UNKNOWN") {
      return e.retriable === true
        ? temporary(`${prefix} failed: ${type}`, options)
        : permanent(`${prefix} failed: ${type}`, options);
    }
  }
  if (name === "KafkaJSSASLAuthenticationError") {
    return unauthorized(`${prefix} failed: authentication failed`, options);
  }
  if (name !== undefined && TEMPORARY_NAMES.has(name)) {
    const reason = /Timeout/.test(name)
      ? "the broker did not answer in time"
      : "the broker is unreachable";
    return temporary(`${prefix} failed: ${reason}`, options);
  }
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) {
    return temporary(`${prefix} failed: the broker is unreachable`, options);
  }
  if (e.retriable === true && name?.startsWith("KafkaJS")) {
    return temporary(`${prefix} failed`, options);
  }
  // kafkajs throws a plain Error when a broker connection is gone.
  if (typeof e.message === "string" && /not connected/i.test(e.message)) {
    return temporary(`${prefix} failed: the broker is unreachable`, options);
  }
  return permanent(`${prefix} failed`, options);
}

/** Whether kafkajs's error means the group is rebalancing or dropped us. */
export function isRebalance(error: unknown): boolean {
  const type = (error as Described | null)?.type;
  return type === "REBALANCE_IN_PROGRESS" ||
    type === "ILLEGAL_GENERATION" ||
    type === "UNKNOWN_MEMBER_ID" ||
    type === "NOT_COORDINATOR_FOR_GROUP";
}
