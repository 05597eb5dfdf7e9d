import { addLogFields, type Middleware } from "@cqi/http";
import { errorResponse, forbidden, unauthorized } from "@cqi/errors";
import { findAuthContext, isPublic } from "./context.ts";
import { MISSING_MESSAGE } from "./failure.ts";

// RFC 6750 §3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Middleware that lets a request through only when its caller has every
 * listed scope; place it after `apiKey`, `jwt` or `anyOf`. A caller lacking
 * one answers 403 `{"error":"insufficient scope","code":"FORBIDDEN"}` with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`; a
 * request with no caller answers 401 (it fails closed when no auth
 * middleware ran), except on a path an auth middleware excluded, which
 * passes.
 *
 * @example Usage
 * ```ts
 * import { applyMiddleware } from "@cqi/http";
 * import { apiKey, requireScopes } from "@cqi/auth";
 *
 * const handler = applyMiddleware(
 *   () => new Response("order placed"),
 *   apiKey({ keys: [{ id: "ro", key: "read-only-key", scopes: ["orders:read"] }] }),
 *   requireScopes("orders:write"),
 * );
 * const res = await handler(
 *   new Request("http://localhost/orders", {
 *     method: "POST",
 *     headers: { authorization: "Bearer read-only-key" },
 *   }),
 * );
 * console.log(res.status); // 403
 * ```
 *
 * @param scopes The scopes required, all of them.
 * @returns The middleware.
 * @throws {TypeError} When no scope is given or one is not a valid scope token.
 */
export function requireScopes(...scopes: string[]): Middleware {
  if (scopes.length === 0) {
    throw new TypeError("requireScopes: expected at least one scope");
  }
  for (const scope of scopes) {
    if (typeof scope !== "string" || !SCOPE_TOKEN.test(scope)) {
      throw new TypeError(
        `requireScopes: ${JSON.stringify(scope)} is not a scope token`,
      );
    }
  }
  const required = [...new Set(scopes)];
  const challenge = `Bearer error="insufficient_scope", scope="${
    required.join(" ")
  }"`;
  return (req, next) => {
    const caller = findAuthContext();
    if (caller === undefined) {
      if (isPublic()) return next(req);
      addLogFields({ auth_error: "requireScopes: no authenticated caller" });
      const res = errorResponse(unauthorized(MISSING_MESSAGE));
      res.headers.set("www-authenticate", "Bearer");
      return res;
    }
    const missing = required.filter((s) => !caller.scopes.includes(s));
    if (missing.length === 0) return next(req);
    addLogFields({ auth_error: `missing scopes: ${missing.join(" ")}` });
    const res = errorResponse(forbidden("insufficient scope"));
    res.headers.set("www-authenticate", challenge);
    return res;
  };
}
