import { jsonError } from "./json_error.ts";
import { requestPath } from "./request_path.ts";
import { setRoute } from "./request_scope.ts";

/**
 * A route handler: the request plus the named parameters of its pattern.
 *
 * @example Usage
 * ```ts
 * import type { RouteHandler } from "@cqi/http";
 *
 * const show: RouteHandler = (_req, params) => Response.json(params);
 * ```
 */
export type RouteHandler = (
  req: Request,
  params: Record<string, string>,
) => Response | Promise<Response>;

/**
 * A route table: keys are `"METHOD /pattern"` (or `"* /pattern"` for any
 * method), values the handlers. Patterns are `/`-separated segments: a
 * literal, `:name` for one segment, or a final `*` for the rest of the path
 * (available as the `*` parameter).
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
 * and traces; a path that matches only under other methods gets `405` with
 * an `Allow` header; `HEAD` falls back to `GET`. Path segments are
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
export function router(
  routes: Routes,
  options: RouterOptions = {},
): (req: Request) => Response | Promise<Response> {
  const compiled = Object.entries(routes).map(([key, handler]) =>
    compile(key, handler)
  );
  rejectDuplicates(compiled);
  compiled.sort(bySpecificity);
  const notFound = options.notFound ?? defaultNotFound;
  return (req) => {
    const parts = requestPath(req.url).slice(1).split("/");
    for (let i = 0; i < parts.length; i++) {
      if (parts[i].includes("%")) parts[i] = decode(parts[i]);
    }
    let allowed: Set<string> | undefined;
    for (const route of compiled) {
      const params = match(route, parts);
      if (params === undefined) continue;
      if (
        route.method === "*" || route.method === req.method ||
        (req.method === "HEAD" && route.method === "GET")
      ) {
        setRoute(route.pattern);
        return route.handler(req, params);
      }
      (allowed ??= new Set()).add(route.method);
    }
    if (allowed === undefined) return notFound(req);
    if (allowed.has("GET")) allowed.add("HEAD");
    const allow = [...allowed].sort().join(", ");
    return jsonError(
      405,
      `method ${req.method} not allowed`,
      "METHOD_NOT_ALLOWED",
      { allow },
    );
  };
}

function compile(key: string, handler: RouteHandler): CompiledRoute {
  const parsed = /^(\*|[A-Z]+) (\/[^\s?#]*)$/.exec(key);
  if (parsed === null) {
    throw new TypeError(
      `invalid route "${key}": expected "METHOD /path", such as "GET /users/:id"`,
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
