import {
  addLogFields,
  type Middleware,
  type Next,
  requestPath,
  withRequestScope,
} from "@cqi/http";
import { CqiError, errorResponse, unauthorized } from "@cqi/errors";
import {
  type ApiKeyVerifier,
  type ApiKeyVerifierOptions,
  checkApiKey,
  prepare,
} from "./api_key.ts";
import {
  type AuthContext,
  type AuthType,
  bindAuth,
  PUBLIC,
} from "./context.ts";
import { compileExclusions, readBearer } from "./credentials.ts";
import {
  failureOf,
  INVALID_MESSAGE,
  MISSING_MESSAGE,
  refusal,
} from "./failure.ts";
import {
  type JwtVerifier,
  type JwtVerifierOptions,
  prepareJwt,
  verifyJwt,
} from "./jwt.ts";

/**
 * Options every auth middleware takes.
 *
 * @example Usage
 * ```ts
 * import type { AuthOptions } from "@cqi/auth";
 *
 * const options: AuthOptions = { exclude: ["/health/*", "/metrics"] };
 * ```
 */
export interface AuthOptions {
  /**
   * Paths that pass without credentials: `/metrics` matches that path
   * exactly, `/health/*` matches `/health` and everything under
   * `/health/`. Matching is on the path only, case-sensitive; a path with
   * an encoded `.`, `/` or `\` is never excluded. Default none.
   */
  exclude?: readonly string[];
}

/**
 * Options for {@linkcode apiKey}.
 *
 * @example Usage
 * ```ts
 * import type { ApiKeyOptions } from "@cqi/auth";
 *
 * const options: ApiKeyOptions = {
 *   keys: [{ id: "ops", key: "correct-horse-battery-staple" }],
 *   header: "x-api-key",
 *   exclude: ["/health/*"],
 * };
 * ```
 */
export interface ApiKeyOptions extends ApiKeyVerifierOptions, AuthOptions {
  /**
   * A header that may carry the key instead of `Authorization: Bearer`,
   * such as `x-api-key`. Default: only `Authorization`.
   */
  header?: string;
}

/**
 * Options for {@linkcode jwt}: the verifier options plus `exclude`.
 *
 * @example Usage
 * ```ts
 * import type { JwtOptions } from "@cqi/auth";
 *
 * const options: JwtOptions = {
 *   jwksUrl: "https://auth.example.com/.well-known/jwks.json",
 *   issuer: "https://auth.example.com/",
 *   audience: "orders",
 *   exclude: ["/health/*", "/metrics"],
 * };
 * ```
 */
export interface JwtOptions extends JwtVerifierOptions, AuthOptions {}

/** One way to authenticate; what `anyOf` combines. */
interface Method {
  type: AuthType;
  excluded: ((path: string) => boolean) | undefined;
  /** The caller, or a refusal thrown or rejected. */
  authenticate(req: Request): AuthContext | Promise<AuthContext>;
}

const METHODS = Symbol("cqi.auth.methods");
type AuthMiddleware = Middleware & { [METHODS]?: Method[] };

const CHALLENGE = "Bearer";
const INVALID_TOKEN = 'Bearer error="invalid_token"';

/**
 * Middleware that requires an API key in `Authorization: Bearer <key>` (or
 * in `options.header`). On success the caller (`keyId`, `serviceId`,
 * `scopes`) is available to everything further in through
 * `getAuthContext()`, and `auth_type`, `key_id` and `service_id` go into
 * the access-log fields. On failure it answers itself: 401
 * `{"error":"invalid credentials","code":"UNAUTHORIZED"}` with
 * `WWW-Authenticate: Bearer error="invalid_token"` (plain `Bearer` and
 * `authentication required` when no credential was sent), and the reason
 * goes into the `auth_error` log field only. Keys are hashed at startup;
 * every presented key is hashed and its digest compared in constant time,
 * and none is remembered (see `verifyApiKey`).
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware } from "@cqi/http";
 * import { apiKey, getAuthContext } from "@cqi/auth";
 *
 * const handler = applyMiddleware(
 *   () => Response.json({ caller: getAuthContext().serviceId }),
 *   apiKey({
 *     keys: [{ id: "billing", key: "s3cr3t-billing", serviceId: "billing" }],
 *     exclude: ["/health/*"],
 *   }),
 * );
 * const ok = await handler(
 *   new Request("http://localhost/api", {
 *     headers: { authorization: "Bearer s3cr3t-billing" },
 *   }),
 * );
 * console.log(await ok.json()); // { caller: "billing" }
 * const refused = await handler(new Request("http://localhost/api"));
 * console.log(refused.status, refused.headers.get("www-authenticate")); // 401 "Bearer"
 * ```
 *
 * @param options The keys, an optional extra header and excluded paths.
 * @returns The middleware.
 * @throws {TypeError} When a key record or an option is malformed.
 */
export function apiKey(options: ApiKeyOptions): Middleware {
  const verifier: ApiKeyVerifier = prepare(options, "apiKey");
  const header = options.header?.toLowerCase();
  if (
    header !== undefined && !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(header)
  ) {
    throw new TypeError(
      `apiKey: header must be a header name, got ${
        JSON.stringify(options.header)
      }`,
    );
  }
  if (header === "authorization") {
    throw new TypeError(
      "apiKey: header is an extra header; Authorization is always read",
    );
  }
  return middleware([{
    type: "api_key",
    excluded: compileExclusions(options.exclude, "apiKey: exclude"),
    authenticate(req) {
      const bearer = readBearer(req.headers.get("authorization"));
      const extra = header === undefined ? null : req.headers.get(header);
      if (extra !== null) {
        if (bearer.kind === "token" || bearer.kind === "malformed") {
          throw refusal("two credentials");
        }
        return checkApiKey(extra, verifier, "apiKey");
      }
      if (bearer.kind === "token") {
        return checkApiKey(bearer.token, verifier, "apiKey");
      }
      throw bearerRefusal(bearer.kind);
    },
  }]);
}

/**
 * Middleware that requires a JWT in `Authorization: Bearer <token>`,
 * verified as `verifyJwt` describes (allowlisted `alg`, signature, `exp`
 * required, `nbf`, `iat`, `iss`, `aud`). On success the caller (`userId` or
 * `serviceId`, `scopes`, `claims`) is available through `getAuthContext()`
 * and `auth_type`, `user_id`/`service_id` go into the access-log fields. A
 * refused token answers 401 with `WWW-Authenticate: Bearer
 * error="invalid_token"` and the one message `invalid credentials`; a JWKS
 * that cannot be fetched answers 503 `UNAVAILABLE`. The reason goes into
 * the `auth_error` log field only.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware } from "@cqi/http";
 * import { SignJWT } from "jose";
 * import { getAuthContext, jwt } from "@cqi/auth";
 *
 * const secret = "a shared secret of at least 32 bytes!";
 * const handler = applyMiddleware(
 *   () => Response.json({ user: getAuthContext().userId }),
 *   jwt({ secret, issuer: "https://auth.example.com/" }),
 * );
 * const token = await new SignJWT({})
 *   .setProtectedHeader({ alg: "HS256" })
 *   .setSubject("u-42")
 *   .setIssuer("https://auth.example.com/")
 *   .setExpirationTime("5m")
 *   .sign(new TextEncoder().encode(secret));
 * const res = await handler(
 *   new Request("http://localhost/", {
 *     headers: { authorization: `Bearer ${token}` },
 *   }),
 * );
 * console.log(await res.json()); // { user: "u-42" }
 * ```
 *
 * @param options Keys, checks and excluded paths.
 * @returns The middleware.
 * @throws {TypeError} When no key source is given or an option is invalid.
 */
export function jwt(options: JwtOptions): Middleware {
  const verifier: JwtVerifier = prepareJwt(options, "jwt");
  return middleware([{
    type: "jwt",
    excluded: compileExclusions(options?.exclude, "jwt: exclude"),
    authenticate(req) {
      const bearer = readBearer(req.headers.get("authorization"));
      if (bearer.kind === "token") return verifyJwt(bearer.token, verifier);
      return Promise.reject(bearerRefusal(bearer.kind));
    },
  }]);
}

/**
 * Middleware that accepts a caller any of the given methods accepts, tried
 * in order: `anyOf(apiKey(...), jwt(...))`. A path excluded by any of them
 * passes without credentials. When all refuse, the answer is 503 if one
 * could not reach its keys (so a valid token is not refused for an outage),
 * else 401; the `auth_error` log field lists each method's reason.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware } from "@cqi/http";
 * import { anyOf, apiKey, findAuthContext, jwt } from "@cqi/auth";
 *
 * const handler = applyMiddleware(
 *   () => Response.json({ via: findAuthContext()?.authType }),
 *   anyOf(
 *     apiKey({ keys: [{ id: "ops", key: "s3cr3t-ops" }] }),
 *     jwt({ secret: "a shared secret of at least 32 bytes!" }),
 *   ),
 * );
 * const res = await handler(
 *   new Request("http://localhost/", {
 *     headers: { authorization: "Bearer s3cr3t-ops" },
 *   }),
 * );
 * console.log(await res.json()); // { via: "api_key" }
 * ```
 *
 * @param methods Middleware made by {@linkcode apiKey}, {@linkcode jwt} or
 *   `anyOf`.
 * @returns The middleware.
 * @throws {TypeError} When a method is not an auth middleware.
 */
export function anyOf(...methods: Middleware[]): Middleware {
  if (methods.length === 0) {
    throw new TypeError("anyOf: expected at least one method");
  }
  return middleware(methods.flatMap((method, i) => {
    const inner = (method as AuthMiddleware)[METHODS];
    if (inner === undefined) {
      throw new TypeError(
        `anyOf: methods[${i}] is not made by apiKey, jwt or anyOf`,
      );
    }
    return inner;
  }));
}

function bearerRefusal(kind: "missing" | "other_scheme" | "malformed") {
  switch (kind) {
    case "missing":
      return refusal("missing credentials", false);
    case "other_scheme":
      return refusal("unsupported scheme", false);
    case "malformed":
      return refusal("malformed bearer credentials");
  }
}

function middleware(methods: Method[]): Middleware {
  const excluders = methods.flatMap((m) => m.excluded ? [m.excluded] : []);
  const auth: AuthMiddleware = (req, next) =>
    withRequestScope(() => authenticate(req, next));
  const authenticate = (req: Request, next: Next) => {
    if (excluders.length > 0) {
      const path = requestPath(req.url);
      if (excluders.some((excluded) => excluded(path))) {
        bindAuth(PUBLIC);
        return next(req);
      }
    }
    return tryMethods(req, next, 0, []);
  };
  // Tries the methods from `from` on, synchronously while they answer
  // synchronously (an API key does), so a request pays no extra await.
  const tryMethods = (
    req: Request,
    next: Next,
    from: number,
    failures: unknown[],
  ): Response | Promise<Response> => {
    for (let i = from; i < methods.length; i++) {
      let result: AuthContext | Promise<AuthContext>;
      try {
        result = methods[i].authenticate(req);
      } catch (error) {
        failures.push(error);
        continue;
      }
      if (!isThenable(result)) return admit(result, req, next);
      return Promise.resolve(result).then(
        (caller) => admit(caller, req, next),
        (error) => {
          failures.push(error);
          return tryMethods(req, next, i + 1, failures);
        },
      );
    }
    return refuse(methods, failures);
  };
  auth[METHODS] = methods;
  return auth;
}

function admit(
  caller: AuthContext,
  req: Request,
  next: Next,
): Promise<Response> {
  addLogFields(identityFields(caller));
  bindAuth(caller);
  return next(req);
}

function identityFields(caller: AuthContext): Record<string, string> {
  const fields: Record<string, string> = { auth_type: caller.authType };
  if (caller.userId !== undefined) fields.user_id = caller.userId;
  if (caller.serviceId !== undefined) fields.service_id = caller.serviceId;
  if (caller.keyId !== undefined) fields.key_id = caller.keyId;
  return fields;
}

/** Answers for the failures of every method (one per method, in order). */
function refuse(methods: Method[], failures: unknown[]): Response {
  let presented = false;
  let other: CqiError | undefined;
  const reasons: string[] = [];
  failures.forEach((error, i) => {
    // Not a CqiError: a bug, not a refusal; recovery (or the server) sees it.
    if (!(error instanceof CqiError)) throw error;
    const failure = failureOf(error);
    reasons.push(`${methods[i].type}: ${failure?.message ?? error.message}`);
    if (error.kind !== "unauthorized") other ??= error;
    presented ||= failure?.presented ?? true;
  });
  addLogFields({ auth_error: reasons.join("; ") });
  if (other !== undefined) return errorResponse(other);
  const res = errorResponse(
    unauthorized(presented ? INVALID_MESSAGE : MISSING_MESSAGE),
  );
  res.headers.set("www-authenticate", presented ? INVALID_TOKEN : CHALLENGE);
  return res;
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
