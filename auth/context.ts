import { ContextKey, RequestSlot } from "@cqi/http";
import { unauthorized } from "@cqi/errors";

/**
 * How a caller authenticated: with an API key or a JSON Web Token.
 *
 * @example Usage
 * ```ts
 * import type { AuthType } from "@cqi/auth";
 *
 * const type: AuthType = "jwt";
 * ```
 */
export type AuthType = "api_key" | "jwt";

/**
 * Who is calling, as established by `apiKey`, `jwt` or `anyOf`. Never holds
 * the key or the token itself.
 *
 * A JWT whose `sub` is `service:<id>` sets `serviceId`; any other `sub` sets
 * `userId`. An API key sets `keyId` and the `serviceId` of its record.
 *
 * @example Usage
 * ```ts
 * import type { AuthContext } from "@cqi/auth";
 *
 * const auth: AuthContext = {
 *   authType: "jwt",
 *   userId: "u-42",
 *   scopes: ["orders:read"],
 *   claims: { sub: "u-42", scope: "orders:read" },
 * };
 * ```
 */
export interface AuthContext {
  /** How the caller authenticated. */
  readonly authType: AuthType;
  /** The end user, from a JWT `sub` that does not start with `service:`. */
  readonly userId?: string;
  /** The calling service: a `service:<id>` JWT subject or an API key's `serviceId`. */
  readonly serviceId?: string;
  /** For API keys: the `id` of the key that matched (never the key). */
  readonly keyId?: string;
  /**
   * Granted scopes: an API key's `scopes`, or a JWT's `scope` claim (space
   * separated) and `scp` claim (string or list).
   */
  readonly scopes: readonly string[];
  /** Every claim of a JWT; empty for API keys. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Marks a request that an auth middleware let through unauthenticated on purpose. */
export const PUBLIC: unique symbol = Symbol("cqi.auth.public");

// An explicit `withAuthContext` binding wins; otherwise what the middleware
// set for the request (a slot: no new async context per request).
const authKey = new ContextKey<AuthContext | typeof PUBLIC>("auth");
const authSlot = new RequestSlot<AuthContext | typeof PUBLIC>("auth");

function current(): AuthContext | typeof PUBLIC | undefined {
  return authKey.get() ?? authSlot.get();
}

/**
 * Records the caller (or the public marker, on an excluded path) for the
 * rest of the request; needs a request scope. Internal.
 */
export function bindAuth(auth: AuthContext | typeof PUBLIC): void {
  authSlot.set(auth);
}

/** Whether the current request was let through on an excluded path. Internal. */
export function isPublic(): boolean {
  return current() === PUBLIC;
}

/**
 * Returns the caller of the current request, or throws an `unauthorized`
 * `CqiError` when there is none (no auth middleware ran, or the
 * path is excluded from authentication). Thrown inside a handler behind
 * `recovery`, that error answers 401.
 *
 * @example Usage
 * ```ts
 * import { getAuthContext, withAuthContext } from "@cqi/auth";
 *
 * withAuthContext(
 *   { authType: "api_key", keyId: "ops", scopes: [], claims: {} },
 *   () => console.log(getAuthContext().keyId), // "ops"
 * );
 * ```
 *
 * @returns The caller.
 * @throws {CqiError} `unauthorized` when the request is not authenticated.
 */
export function getAuthContext(): AuthContext {
  const auth = current();
  if (auth === undefined || auth === PUBLIC) {
    throw unauthorized("authentication required");
  }
  return auth;
}

/**
 * Returns the caller of the current request, or `undefined` when it is not
 * authenticated. For handlers that serve anonymous callers too.
 *
 * @example Usage
 * ```ts
 * import { findAuthContext } from "@cqi/auth";
 *
 * console.log(findAuthContext()?.userId ?? "anonymous"); // "anonymous"
 * ```
 *
 * @returns The caller, or `undefined`.
 */
export function findAuthContext(): AuthContext | undefined {
  const auth = current();
  return auth === PUBLIC ? undefined : auth;
}

/**
 * Runs `fn` with `auth` as the caller, for code that authenticates outside
 * the HTTP middleware (a gRPC interceptor, a message consumer calling
 * `verifyJwt`) and for tests of handlers.
 *
 * @example Usage
 * ```ts
 * import { findAuthContext, withAuthContext } from "@cqi/auth";
 *
 * const user = await withAuthContext(
 *   { authType: "jwt", userId: "u-1", scopes: [], claims: { sub: "u-1" } },
 *   async () => {
 *     await Promise.resolve();
 *     return findAuthContext()?.userId;
 *   },
 * );
 * console.log(user); // "u-1"
 * ```
 *
 * @param auth The caller.
 * @param fn The function to run.
 * @returns What `fn` returns.
 */
export function withAuthContext<R>(auth: AuthContext, fn: () => R): R {
  return authKey.with(auth, fn);
}
