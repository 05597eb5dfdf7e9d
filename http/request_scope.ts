import { ContextKey } from "./context.ts";

/** The shared per-request slots that several modules read and write. */
interface RequestScope {
  route: string | undefined;
  logFields: Record<string, unknown>;
}

const scopeKey = new ContextKey<RequestScope>("http.request");

/**
 * Runs `fn` inside a request scope: the route slot and the extra log fields
 * set by anything `fn` calls are visible here after it returns. If a scope is
 * already active, `fn` joins it. Middleware that reads the slots (access log,
 * metrics, tracing) wraps its call to `next` in this.
 *
 * @example Usage
 * ```ts
 * import { getRoute, setRoute, withRequestScope } from "@cqi/http";
 *
 * await withRequestScope(async () => {
 *   await Promise.resolve().then(() => setRoute("/users/:id"));
 *   console.log(getRoute()); // "/users/:id"
 * });
 * ```
 *
 * @param fn The function to run in the scope.
 * @returns What `fn` returns.
 */
export function withRequestScope<R>(fn: () => R): R {
  if (scopeKey.get() !== undefined) return fn();
  return scopeKey.with({ route: undefined, logFields: {} }, fn);
}

/**
 * Records the route pattern (such as `/users/:id`) that matched the current
 * request, for logs, metrics and span names. Without a request scope this
 * does nothing.
 *
 * @example Usage
 * ```ts
 * import { getRoute, setRoute, withRequestScope } from "@cqi/http";
 *
 * withRequestScope(() => {
 *   setRoute("/orders/:id");
 *   console.log(getRoute()); // "/orders/:id"
 * });
 * ```
 *
 * @param pattern The route pattern, never the raw path.
 */
export function setRoute(pattern: string): void {
  const scope = scopeKey.get();
  if (scope !== undefined) scope.route = pattern;
}

/**
 * Returns the route pattern recorded for the current request.
 *
 * @example Usage
 * ```ts
 * import { getRoute } from "@cqi/http";
 *
 * console.log(getRoute()); // undefined outside a request scope
 * ```
 *
 * @returns The pattern, or `undefined` when no router recorded one.
 */
export function getRoute(): string | undefined {
  return scopeKey.get()?.route;
}

/**
 * Adds fields to the current request's access-log line (auth adds the
 * caller's identity, or why it refused one). Later values win. Without a
 * request scope this does nothing.
 *
 * @example Usage
 * ```ts
 * import { addLogFields, getLogFields, withRequestScope } from "@cqi/http";
 *
 * withRequestScope(() => {
 *   addLogFields({ user_id: "u-1" });
 *   console.log(getLogFields()); // { user_id: "u-1" }
 * });
 * ```
 *
 * @param fields The fields to add.
 */
export function addLogFields(fields: Record<string, unknown>): void {
  const scope = scopeKey.get();
  if (scope !== undefined) Object.assign(scope.logFields, fields);
}

/**
 * Returns the extra log fields added to the current request so far.
 *
 * @example Usage
 * ```ts
 * import { getLogFields } from "@cqi/http";
 *
 * console.log(getLogFields()); // {} outside a request scope
 * ```
 *
 * @returns The fields; empty outside a request scope.
 */
export function getLogFields(): Readonly<Record<string, unknown>> {
  return scopeKey.get()?.logFields ?? {};
}
