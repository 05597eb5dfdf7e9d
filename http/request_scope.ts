import { context } from "@opentelemetry/api";
import { extendContext } from "./context.ts";

/**
 * An async context as `withRequestScope`'s `extend` sees it: OpenTelemetry's
 * `Context` (immutable; `setValue` returns a new one), so `trace.setSpan`
 * and `propagation.extract` take and return it.
 *
 * @example Usage
 * ```ts
 * import type { ScopeContext } from "@cqi/http";
 *
 * const tenant = Symbol("tenant");
 * const extend = (ctx: ScopeContext) => ctx.setValue(tenant, "acme");
 * ```
 */
export interface ScopeContext {
  /** The value bound to `key`, or `undefined`. */
  getValue(key: symbol): unknown;
  /** A new context with `key` bound to `value`. */
  setValue(key: symbol, value: unknown): ScopeContext;
  /** A new context without `key`. */
  deleteValue(key: symbol): ScopeContext;
}

/** The shared per-request slots that several modules read and write. */
interface RequestScope {
  route: string | undefined;
  logFields: Record<string, unknown>;
  slots?: Record<symbol, unknown>;
}

const SCOPE = Symbol("cqi.http.request");

function activeScope(): RequestScope | undefined {
  return context.active().getValue(SCOPE) as RequestScope | undefined;
}

/**
 * Runs `fn` inside a request scope: the route slot and the extra log fields
 * set by anything `fn` calls are visible here after it returns. If a scope is
 * already active, `fn` joins it. Middleware that reads the slots (access log,
 * metrics, tracing) wraps its call to `next` in this.
 *
 * `extend` adds values to the context `fn` runs in (tracing binds the
 * server span with it): the scope and those values then cost one async
 * context switch between them, which is the expensive part on Deno. It gets
 * the context with the scope bound and returns the one to run `fn` in.
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
 * @example Binding a value in the same switch
 * ```ts
 * import { createContextKey } from "@opentelemetry/api";
 * import { withRequestScope } from "@cqi/http";
 * import { context } from "@opentelemetry/api";
 *
 * const tenant = createContextKey("tenant");
 * withRequestScope(
 *   () => console.log(context.active().getValue(tenant)), // "acme"
 *   (ctx) => ctx.setValue(tenant, "acme"),
 * );
 * ```
 *
 * @param fn The function to run in the scope.
 * @param extend Adds values to the context `fn` runs in.
 * @returns What `fn` returns.
 */
export function withRequestScope<R>(
  fn: () => R,
  extend?: (ctx: ScopeContext) => ScopeContext,
): R {
  const active = context.active();
  let scope = active.getValue(SCOPE) as RequestScope | undefined;
  if (scope !== undefined && extend === undefined) return fn();
  scope ??= { route: undefined, logFields: {} };
  // Bound again when joining, so that `extend` extends a cheap context.
  const ctx = extendContext(active, SCOPE, scope);
  if (extend === undefined) return context.with(ctx, fn);
  let extended = extend(ctx) as typeof ctx;
  // A context not built on `ctx` (ROOT_CONTEXT, say) still gets the scope.
  if (extended.getValue(SCOPE) !== scope) {
    extended = extendContext(extended, SCOPE, scope);
  }
  return context.with(extended, fn);
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
  const scope = activeScope();
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
  return activeScope()?.route;
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
  const scope = activeScope();
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
  return activeScope()?.logFields ?? {};
}

/**
 * A value that lives as long as the current request scope: set once (by a
 * middleware), read anywhere later in the same request. Unlike
 * {@linkcode ContextKey.with}, setting it starts no new async context, so it
 * costs a map write instead of an `AsyncLocalStorage.run` (about 1 µs on
 * Deno); use it for values bound once per request, such as the request's
 * logger or the authenticated caller. Without a request scope, `set` does
 * nothing and returns `false`.
 *
 * @example Usage
 * ```ts
 * import { RequestSlot, withRequestScope } from "@cqi/http";
 *
 * const caller = new RequestSlot<string>("caller");
 * await withRequestScope(async () => {
 *   caller.set("svc-a");
 *   await Promise.resolve();
 *   console.log(caller.get()); // "svc-a"
 * });
 * console.log(caller.get()); // undefined
 * ```
 *
 * @typeParam T The type of the value.
 */
export class RequestSlot<T> {
  readonly #symbol: symbol;

  /**
   * Creates a slot. Two slots with the same description are distinct.
   *
   * @param description A name for debugging.
   */
  constructor(description: string) {
    this.#symbol = Symbol(`cqi.slot.${description}`);
  }

  /**
   * Reads the value set in the current request scope.
   *
   * @example Usage
   * ```ts
   * import { RequestSlot } from "@cqi/http";
   *
   * console.log(new RequestSlot<number>("n").get()); // undefined
   * ```
   *
   * @returns The value, or `undefined`.
   */
  get(): T | undefined {
    return activeScope()?.slots?.[this.#symbol] as T | undefined;
  }

  /**
   * Sets the value for the rest of the current request scope.
   *
   * @example Usage
   * ```ts
   * import { RequestSlot, withRequestScope } from "@cqi/http";
   *
   * const slot = new RequestSlot<number>("n");
   * console.log(slot.set(1)); // false: no request scope
   * withRequestScope(() => console.log(slot.set(1))); // true
   * ```
   *
   * @param value The value.
   * @returns Whether a request scope was there to hold it.
   */
  set(value: T): boolean {
    const scope = activeScope();
    if (scope === undefined) return false;
    (scope.slots ??= {})[this.#symbol] = value;
    return true;
  }
}
