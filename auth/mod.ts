/**
 * Authentication for CQI services: API keys and JSON Web Tokens, as
 * middleware that answers refusals itself (401 with `WWW-Authenticate`, 503
 * when a JWKS is down) and as plain functions for gRPC and message
 * consumers.
 *
 * - {@linkcode apiKey}: `Authorization: Bearer <key>` (or an extra header);
 *   keys hashed with SHA-256 at startup, compared in constant time.
 * - {@linkcode jwt}: PEM, JWK or JWKS URL keys via `jose`; an explicit
 *   algorithm allowlist, `exp` required, `nbf`/`iat`/`iss`/`aud` checked.
 * - {@linkcode anyOf}, {@linkcode requireScopes}, and `exclude` paths.
 * - {@linkcode getAuthContext} / {@linkcode findAuthContext} read the caller
 *   from the request's async context; the caller's identity, or why it was
 *   refused, goes into the access-log fields (`addLogFields`).
 * - {@linkcode verifyApiKey} and {@linkcode verifyJwt} run the same checks
 *   outside HTTP.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware, router, serve } from "@cqi/http";
 * import { recovery } from "@cqi/errors";
 * import { apiKey, getAuthContext, requireScopes } from "@cqi/auth";
 *
 * const app = router({
 *   "GET /health/live": () => new Response("ok"),
 *   "GET /api/whoami": () => Response.json(getAuthContext()),
 * });
 * const handler = applyMiddleware(
 *   app,
 *   recovery(),
 *   apiKey({
 *     keys: [{ id: "billing", key: "s3cr3t", serviceId: "billing", scopes: ["read"] }],
 *     exclude: ["/health/*"],
 *   }),
 *   requireScopes("read"),
 * );
 * await using server = serve(handler, {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * const base = `http://127.0.0.1:${server.addr.port}`;
 * console.log((await fetch(`${base}/health/live`)).status); // 200
 * const res = await fetch(`${base}/api/whoami`, {
 *   headers: { authorization: "Bearer s3cr3t" },
 * });
 * console.log(await res.json());
 * // { authType: "api_key", keyId: "billing", serviceId: "billing", scopes: ["read"], claims: {} }
 * const refused = await fetch(`${base}/api/whoami`);
 * console.log(refused.status, await refused.json());
 * // 401 { error: "authentication required", code: "UNAUTHORIZED" }
 * ```
 *
 * @module
 */
export {
  type AuthContext,
  type AuthType,
  findAuthContext,
  getAuthContext,
  withAuthContext,
} from "./context.ts";
export {
  type ApiKeyRecord,
  type ApiKeyVerifier,
  type ApiKeyVerifierOptions,
  createApiKeyVerifier,
  generateApiKey,
  hashApiKey,
  verifyApiKey,
} from "./api_key.ts";
export {
  createJwtVerifier,
  type JwtVerifier,
  type JwtVerifierOptions,
  verifyJwt,
} from "./jwt.ts";
export type { PublicJwk } from "./jwt_keys.ts";
export {
  anyOf,
  apiKey,
  type ApiKeyOptions,
  type AuthOptions,
  jwt,
  type JwtOptions,
} from "./middleware.ts";
export { requireScopes } from "./scopes.ts";
