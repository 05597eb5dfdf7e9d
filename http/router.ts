import { jsonError } from "./json_error.ts";
import { requestPath } from "./request_path.ts";
import { setRoute } from "./request_scope.ts";

/**
 * The parameters a route pattern declares, as an object type: one `string`
 * per `:name` segment, and `"*"` for a final `*`. A pattern without either
 * gives `{}`; a pattern that is only known as `string` gives
 * `Record<string, string>`. The method before the path, if any, is ignored.
 * {@linkcode router} and {@linkcode group} type each handler's parameters
 * with it; name it to type a handler written apart from its table.
 *
 * @example Usage
 * ```ts
 * import type { RouteHandler, RouteParams } from "@cqi/http";
 *
 * type P = RouteParams<"GET /orgs/:org/files/*">; // { org: string; "*": string }
 * const show: RouteHandler<P> = (_req, { org, "*": file }) =>
 *   Response.json({ org, file });
 * ```
 *
 * @typeParam Pattern A route key (`"GET /users/:id"`) or a path pattern.
 */
export type RouteParams<Pattern extends string> = string extends Pattern
  ? Record<string, string>
  : Pattern extends `${infer Head}/${infer Rest}`
    ? RouteParams<Head> & RouteParams<Rest>
  : Pattern extends `:${infer Name}` ? { [_ in Name]: string }
  : Pattern extends "*" ? { "*": string }
  : Record<never, never>;

/**
 * A route handler: the request plus the named parameters of its pattern.
 * Without a type argument the parameters are `Record<string, string>`.
 *
 * @example Usage
 * ```ts
 * import type { RouteHandler } from "@cqi/http";
 *
 * const show: RouteHandler<{ id: string }> = (_req, { id }) =>
 *   Response.json({ id });
 * ```
 *
 * @typeParam Params The parameters, such as `RouteParams<"/users/:id">`.
 */
export type RouteHandler<Params = Record<string, string>> = (
  req: Request,
  params: Params,
) => Response | Promise<Response>;

/**
 * A route table: keys are `"METHOD /pattern"` (or `"* /pattern"` for any
 * method), values the handlers. Patterns are `/`-separated segments: a
 * literal, `:name` for one segment, or a final `*` for the rest of the path
 * (available as the `*` parameter). Written inline in {@linkcode router},
 * a table types each handler's parameters from its key; a table declared
 * as `Routes` types them all as `Record<string, string>`.
 *
 * @example Usage
 * ```ts
 * import type { Routes } from "@cqi/http";
 *
 * const routes: Routes = {
 *   "GET /users/:id": (_req, { id }) => Response.json({ id }),
 * };
 * ```
 */
export type Routes = Record<string, RouteHandler>;

/**
 * Options for {@linkcode router}.
 *
 * @example Usage
 * ```ts
 * import type { RouterOptions } from "@cqi/http";
 *
 * const options: RouterOptions = {
 *   notFound: () => new Response("nothing here", { status: 404 }),
 * };
 * ```
 */
export interface RouterOptions {
  /** Answers requests that match no pattern. Default: a JSON 404. */
  notFound?: (req: Request) => Response | Promise<Response>;
}

interface CompiledRoute {
  method: string;
  pattern: string;
  segments: string[];
  /** Per segment, the parameter's name, or `undefined` for a literal. */
  params: Array<string | undefined>;
  wildcard: boolean;
  handler: RouteHandler;
}

/**
 * Builds a handler from a route table. The most specific pattern wins
 * (literal segments before `:params` before `*`), independent of order. A
 * matched pattern is recorded with {@linkcode setRoute} for logs, metrics
 * and traces, before the handler (and any {@linkcode group} middleware
 * around it) runs; a path that matches only under other methods gets `405`
 * with an `Allow` header, and records the most specific of those patterns;
 * `HEAD` falls back to `GET`. Each handler's parameters are typed from its
 * key ({@linkcode RouteParams}). Path segments are
 * percent-decoded before matching, so literals are written decoded
 * (`/café`) and parameters arrive decoded — `*` and a parameter may then
 * contain `/` or `..`: a handler that maps them to files must check them.
 * Malformed tables (bad names, two routes matching the same requests) throw
 * when the router is built.
 *
 * @example Usage
 * ```ts
 * import { router } from "@cqi/http";
 *
 * const handler = router({
 *   "GET /users/:id": (_req, { id }) => Response.json({ id }),
 *   "GET /users/me": () => Response.json({ id: "me" }),
 * });
 * const res = await handler(new Request("http://localhost/users/42"));
 * console.log(await res.json()); // { id: "42" }
 * ```
 *
 * @param routes The route table.
 * @param options Router options.
 * @returns A handler that dispatches to the routes.
 */
export function router<R>(
  routes: { [K in keyof R]: RouteHandler<RouteParams<K & string>> },
  options: RouterOptions = {},
): (req: Request) => Response | Promise<Response> {
  const compiled = Object.entries(routes as Routes).map(([key, handler]) =>
    compile(key, handler)
  );
  rejectDuplicates(compiled);
  // a group's guard (method "!") only after every route, most specific first
  compiled.sort((a, b) =>
    Number(a.method === GUARD) - Number(b.method === GUARD) ||
    bySpecificity(a, b)
  );
  const notFound = options.notFound ?? defaultNotFound;
  return (req) => {
    const parts = requestPath(req.url).slice(1).split("/");
    for (let i = 0; i < parts.length; i++) {
      if (parts[i].includes("%")) parts[i] = decode(parts[i]);
    }
    let allowed: Set<string> | undefined;
    let other: string | undefined; // the most specific pattern, for a 405
    let guard: CompiledRoute | undefined;
    for (const route of compiled) {
      const params = match(route, parts);
      if (params === undefined) continue;
      if (route.method === GUARD) {
        guard = route;
        break;
      }
      if (
        route.method === "*" || route.method === req.method ||
        (req.method === "HEAD" && route.method === "GET")
      ) {
        setRoute(route.pattern);
        return route.handler(req, params);
      }
      (allowed ??= new Set()).add(route.method);
      other ??= route.pattern;
    }
    if (other !== undefined) setRoute(other);
    const answer = () =>
      allowed === undefined ? notFound(req) : methodNotAllowed(req, allowed);
    if (guard === undefined) return answer();
    // the group's middleware (its auth) decides before the 404 or 405 does
    const params = {};
    answers.set(params, answer);
    return guard.handler(req, params);
  };
}

/** The route-table method of a group's guard: `"! /api/*"`. */
export const GUARD = "!";

const answers = new WeakMap<
  object,
  () => Response | Promise<Response>
>();

/**
 * The innermost handler of a group's guard: the router's own answer (404
 * or 405) for a request under the group's prefix that no route took, once
 * the group's middleware let it through.
 */
export function unmatched(
  _req: Request,
  params: object,
): Response | Promise<Response> {
  return answers.get(params)!();
}

function methodNotAllowed(req: Request, allowed: Set<string>): Response {
  if (allowed.has("GET")) allowed.add("HEAD");
  const allow = [...allowed].sort().join(", ");
  return jsonError(
    405,
    `method ${req.method} not allowed`,
    "METHOD_NOT_ALLOWED",
    { allow },
  );
}

function compile(key: string, handler: RouteHandler): CompiledRoute {
  const parsed = /^(\*|!|[A-Z]+) (\/[^\s?#]*)$/.exec(key);
  if (parsed === null) {
    throw new TypeError(
      `invalid route "${key}": expected "METHOD /path", such as "GET /users/:id"`,
    );
  }
  if (typeof handler !== "function") {
    throw new TypeError(
      `invalid route "${key}": the handler is not a function`,
    );
  }
  const [, method, pattern] = parsed;
  const segments = pattern.split("/").slice(1);
  const wildcard = segments.at(-1) === "*";
  if (wildcard) segments.pop();
  if (segments.includes("*")) {
    throw new TypeError(`invalid route "${key}": "*" must be the last segment`);
  }
  const names = new Set<string>();
  for (const segment of segments) {
    if (!segment.startsWith(":")) continue;
    if (!/^:[A-Za-z_$][\w$]*$/.test(segment)) {
      throw new TypeError(
        `invalid route "${key}": "${segment}" is not a parameter name`,
      );
    }
    if (names.has(segment)) {
      throw new TypeError(`invalid route "${key}": "${segment}" appears twice`);
    }
    names.add(segment);
  }
  const params = segments.map((s) =>
    s.startsWith(":") ? s.slice(1) : undefined
  );
  return { method, pattern, segments, params, wildcard, handler };
}

function rejectDuplicates(routes: CompiledRoute[]): void {
  const seen = new Map<string, string>();
  for (const route of routes) {
    const shape = `${route.method} /${
      route.segments.map((s) => s.startsWith(":") ? ":" : s).join("/")
    }${route.wildcard ? "/*" : ""}`;
    const other = seen.get(shape);
    if (other !== undefined) {
      throw new TypeError(
        `routes "${other}" and "${route.method} ${route.pattern}" match the same requests`,
      );
    }
    seen.set(shape, `${route.method} ${route.pattern}`);
  }
}

function rank(segment: string): number {
  return segment.startsWith(":") ? 1 : 0;
}

function bySpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const n = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const d = rank(a.segments[i]) - rank(b.segments[i]);
    if (d !== 0) return d;
  }
  if (a.wildcard !== b.wildcard) return a.wildcard ? 1 : -1;
  return b.segments.length - a.segments.length;
}

function match(
  route: CompiledRoute,
  parts: string[],
): Record<string, string> | undefined {
  const { segments } = route;
  if (
    route.wildcard
      ? parts.length < segments.length
      : parts.length !== segments.length
  ) {
    return undefined;
  }
  // Literals first, so that a route that does not match allocates nothing.
  const names = route.params;
  for (let i = 0; i < segments.length; i++) {
    if (names[i] === undefined ? segments[i] !== parts[i] : parts[i] === "") {
      return undefined;
    }
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const name = names[i];
    if (name !== undefined) params[name] = parts[i];
  }
  if (route.wildcard) {
    params["*"] = parts.slice(segments.length).join("/");
  }
  return params;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // malformed escapes match literally
  }
}

function defaultNotFound(): Response {
  return jsonError(404, "not found", "NOT_FOUND");
}
