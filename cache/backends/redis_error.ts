// How both drivers turn a client's error into the CqiError the RedisDriver
// contract promises. Each driver says what its client's errors are
// (ClientErrors); the kinds and messages are the same for both.
import { CqiError, permanent, temporary } from "@cqi/errors";

/** What a driver's client errors are, as far as {@linkcode toCqiError} asks. */
export interface ClientErrors {
  /** A server error reply. */
  isReply(error: unknown): error is Error;
  /** A command timed out. */
  isTimeout(error: unknown): boolean;
  /** The client is not connected (nothing was sent). */
  isOffline(error: unknown): boolean;
  /** The client was closed (by the driver, or replaced), or its connection. */
  isClosed(error: unknown): boolean;
  /** A connection failure without an errno code, in a few words. */
  describe(error: unknown): string | undefined;
}

/**
 * Maps a failed call's error: `command` names it, `lastError` is its
 * connection's last error (to explain "not connected").
 */
export type ToCqiError = (
  command: string,
  error: unknown,
  lastError: unknown,
) => CqiError;

// Server error codes a retry may get past.
const TRANSIENT_REPLIES = new Set([
  "LOADING",
  "BUSY",
  "TRYAGAIN",
  "MASTERDOWN",
  "CLUSTERDOWN",
  "READONLY",
]);

/**
 * The error mapping of one driver: its client's errors, its command
 * timeout, and whether it was closed (a closed client says "client closed",
 * not "connection lost").
 */
export function errorMapper(
  client: ClientErrors,
  commandTimeout: number,
  closed: () => boolean,
): ToCqiError {
  return (command, error, lastError) =>
    toCqiError(client, error, { command, lastError, commandTimeout, closed });
}

/**
 * The CqiError for a failed call. The message names the command and the
 * failure, never a key, a value or a credential; the client's error is the
 * cause. A server reply is `permanent` unless its code is one a retry may
 * get past; a lost, refused or timed-out connection is `temporary`; an
 * error nobody knows is `permanent`.
 */
function toCqiError(
  client: ClientErrors,
  error: unknown,
  call: {
    command: string;
    lastError: unknown;
    commandTimeout: number;
    closed: () => boolean;
  },
): CqiError {
  if (error instanceof CqiError) return error;
  const prefix = `redis ${call.command} failed`;
  const { lastError } = call;
  if (client.isReply(error)) {
    return fromReply(error, (code) => `${prefix}: server replied ${code}`);
  }
  if (client.isTimeout(error)) {
    return temporary(`${prefix}: timed out after ${call.commandTimeout} ms`, {
      cause: error,
    });
  }
  if (client.isOffline(error)) {
    if (client.isReply(lastError)) {
      // the handshake was refused (wrong password, unknown database, ...)
      return fromReply(
        lastError,
        (code) => `${prefix}: not connected (server replied ${code})`,
      );
    }
    const why = lastError === undefined
      ? "connecting"
      : describe(client, lastError) ?? "connection error";
    return temporary(`${prefix}: not connected (${why})`, {
      cause: lastError ?? error,
    });
  }
  if (client.isClosed(error)) {
    const why = call.closed() ? "client closed" : "connection lost";
    return temporary(`${prefix}: ${why}`, { cause: error });
  }
  const why = describe(client, error);
  if (why !== undefined) {
    return temporary(`${prefix}: ${why}`, { cause: error });
  }
  return permanent(`${prefix}: unexpected client error`, { cause: error });
}

// Only the reply's code goes into the message: a reply may quote the
// command's arguments.
function fromReply(reply: Error, message: (code: string) => string): CqiError {
  const code = /^[A-Z]+/.exec(reply.message)?.[0] ?? "ERR";
  const make = TRANSIENT_REPLIES.has(code) ? temporary : permanent;
  return make(message(code), { cause: reply });
}

// A connection failure in a few words, or undefined if it is none.
function describe(client: ClientErrors, error: unknown): string | undefined {
  if (client.isClosed(error)) return "connection lost";
  const own = client.describe(error);
  if (own !== undefined) return own;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return undefined;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
      return "connection lost";
    case "ETIMEDOUT":
      return "connect timed out";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    default:
      if (/^ERR_(SSL|TLS)_/.test(code)) return `TLS error ${code}`;
      return /^E[A-Z]+$/.test(code) ? `connection error ${code}` : undefined;
  }
}
