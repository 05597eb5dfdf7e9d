// Maps nats.js's errors to CqiError kinds. The message names the operation
// and the topics (never a payload, a credential or a server address); the
// client's own error is kept as the cause, for logs.
import {
  CqiError,
  invalidInput,
  permanent,
  temporary,
  timeout,
  unauthorized,
} from "@cqi/errors";
import { where } from "./where.ts";

interface Described {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  status?: unknown;
  cause?: unknown;
}

/** JetStream API error codes a retry may fix (limits reached, no leader, ...). */
const TEMPORARY_CODES: ReadonlySet<number> = new Set([
  10023, // insufficient resources
  10047, // storage resources exceeded
  10077, // maximum messages exceeded
  10028, // maximum bytes exceeded
  10008, // cluster not available
  10006, // cluster peer not member
  10076, // stream leader not ready / offline
]);

const TEMPORARY_NAMES: ReadonlySet<string> = new Set([
  "ConnectionError",
  "NoResponders",
  "NoRespondersError",
  "JetStreamNotEnabled",
  "RequestError",
  "DrainingConnectionError",
  "ClosedConnectionError",
]);

/**
 * Maps an error of nats.js to a `CqiError`: `timeout` when the server did
 * not answer in time; `temporary` for a lost connection, no JetStream (yet)
 * and limits a wait may lift; `unauthorized` for authentication and
 * permissions; `invalid_input` for a payload too large or a subject or name
 * the server refuses; `permanent` for the rest. A `CqiError` passes through.
 *
 * @param error What nats.js threw.
 * @param operation What was being done, such as `publish` or `consume`.
 * @param topics The topics concerned, named in the message.
 * @returns The error to throw, with `error` as its cause.
 */
export function natsError(
  error: unknown,
  operation: string,
  topics: readonly string[] = [],
): CqiError {
  if (error instanceof CqiError) return error;
  const prefix = where("nats", operation, topics);
  const e =
    (typeof error === "object" && error !== null ? error : {}) as Described;
  const name = typeof e.name === "string" ? e.name : "";
  const code = typeof e.code === "number" ? e.code : undefined;
  const status = typeof e.status === "number" ? e.status : undefined;
  const options = { cause: error };
  if (name === "TimeoutError") {
    return timeout(`${prefix}: the server did not answer in time`, options);
  }
  if (
    name === "AuthorizationError" ||
    name === "PermissionViolationError" ||
    name === "UserAuthenticationExpiredError"
  ) {
    return unauthorized(`${prefix}: not allowed`, options);
  }
  if (name === "InvalidArgumentError" || name === "InvalidSubjectError") {
    // Raised before sending: a payload over the server's max_payload, an
    // illegal subject or header.
    return invalidInput(
      `${prefix}: refused by the client: ${text(e)}`,
      options,
    );
  }
  if (
    name === "JetStreamApiError" || name === "StreamNotFoundError" ||
    name === "ConsumerNotFoundError"
  ) {
    const detail = `${text(e)} (${code ?? "?"})`;
    if (code !== undefined && TEMPORARY_CODES.has(code)) {
      return temporary(`${prefix}: ${detail}`, options);
    }
    if (status === 503 || status === 408) {
      return temporary(`${prefix}: ${detail}`, options);
    }
    if (status === 400) {
      return invalidInput(`${prefix}: ${detail}`, options);
    }
    return permanent(`${prefix}: ${detail}`, options);
  }
  if (TEMPORARY_NAMES.has(name)) {
    return temporary(`${prefix}: the server is unreachable`, options);
  }
  if (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code)) {
    return temporary(`${prefix}: the server is unreachable`, options); // ECONNREFUSED...
  }
  return permanent(`${prefix} failed`, options);
}

// A server's description of what it refused: short, printable, no address.
function text(e: Described): string {
  const message = typeof e.message === "string" ? e.message : "";
  return message.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
}

/** Whether JetStream said the stream or the durable consumer does not exist. */
export function isNotFound(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown } | null;
  return e?.name === "StreamNotFoundError" ||
    e?.name === "ConsumerNotFoundError" || e?.code === 10059 ||
    e?.code === 10014;
}
