import { context, ROOT_CONTEXT } from "@opentelemetry/api";
import type { Handler } from "./types.ts";
import { jsonError } from "./json_error.ts";
import { withHeaders } from "./headers.ts";
import { hasValidAuthority } from "./host.ts";
import { listen } from "./listener.ts";
import { onSignals } from "./signals.ts";
import { readEnv } from "./env.ts";

/**
 * The address a {@linkcode Server} listens on.
 *
 * @example Usage
 * ```ts
 * import type { ServerAddr } from "@cqi/http";
 *
 * const addr: ServerAddr = { hostname: "127.0.0.1", port: 8080 };
 * ```
 */
export interface ServerAddr {
  /** The interface, such as `0.0.0.0` or `127.0.0.1`. */
  hostname: string;
  /** The TCP port; the real one when `0` was asked for. */
  port: number;
}

/**
 * Options for {@linkcode serve}.
 *
 * @example Usage
 * ```ts
 * import type { ServeOptions } from "@cqi/http";
 *
 * const options: ServeOptions = { port: 0, hostname: "127.0.0.1" };
 * ```
 */
export interface ServeOptions {
  /** Port to listen on; `0` picks a free one. Default: `PORT`, else 8080. */
  port?: number;
  /** Interface to listen on. Default: `0.0.0.0`. */
  hostname?: string;
  /** Aborting it shuts the server down gracefully. */
  signal?: AbortSignal;
  /**
   * Shut down gracefully on SIGTERM and SIGINT. Default `true`; `false` when
   * something else (such as `@cqi/service`) owns the signals.
   */
  handleSignals?: boolean;
  /**
   * Milliseconds in-flight requests get to finish on shutdown (`Infinity`
   * waits for them all). Default 10 s. When it runs out, `shutdown()`
   * rejects and what is still open is dropped so the process may exit: Bun
   * closes the connections; on Deno every response body still streaming
   * is cancelled (with that error as the reason), closing its connection.
   */
  gracePeriod?: number;
  /**
   * Milliseconds a connection may stay idle — no bytes of a request's
   * headers or body, no next request on a kept-alive connection — before the
   * server closes it. Bun only, in whole seconds up to 255 (`0`: never);
   * default 10 s. `Deno.serve` has no connection timeouts: on Deno, put a
   * proxy that has them in front (see the README).
   */
  idleTimeout?: number;
  /**
   * Asked, synchronously, as each response goes out: `false` (only `false`)
   * makes it its connection's last (`connection: close`), while requests
   * are still served. Return `false` once readiness fails ahead of a
   * shutdown (a drain delay), so that clients leave their kept-alive
   * connections before shutdown closes the idle ones — a request sent down
   * one as it closes is reset. Default: keep-alive until shutdown begins,
   * `connection: close` from then on. HTTP/1.1 only (HTTP/2 has no such
   * header); a WebSocket handshake is left alone; a callback that throws
   * or answers anything but a boolean keeps the connection and is reported
   * to `onError` once.
   */
  keepAlive?: () => boolean;
  /**
   * Called for each request `serve` answers itself, before the handler: a
   * `Host` that is not `host[:port]` (`"invalid_host"`, 400) or a request
   * that came while it drains (`"shutting_down"`, 503). For counting; the
   * handler's middleware never sees these. Default: nothing.
   */
  onRefused?: (reason: "invalid_host" | "shutting_down") => void;
  /**
   * Called once the server listens. Default: prints
   * `Listening on http://<hostname>:<port>/` on stderr, as `Deno.serve`
   * does (stdout stays free for log lines); pass `() => {}` for silence.
   */
  onListen?: (addr: ServerAddr) => void;
  /**
   * Receives errors that escaped the handler (the client got a JSON 500),
   * close-hook failures, an expired grace period, and a failed listener
   * (Deno, out of file descriptors: a new one follows). Default:
   * `console.error`.
   */
  onError?: (error: unknown) => void;
}

/**
 * A running HTTP server returned by {@linkcode serve}.
 *
 * @example Usage
 * ```ts
 * import { serve } from "@cqi/http";
 *
 * await using server = serve(() => new Response("ok"), {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * console.log(server.addr.port > 0); // true
 * ```
 */
export interface Server extends AsyncDisposable {
  /** Where the server listens. */
  readonly addr: ServerAddr;
  /** Settles once shutdown is complete, close hooks included; never rejects. */
  readonly finished: Promise<void>;
  /**
   * Registers a hook run after the server has drained, in reverse order of
   * registration (the last registered runs first). A hook registered after
   * shutdown completed runs at once.
   *
   * @param hook Closes a resource, such as a database pool.
   */
  onClose(hook: () => void | Promise<void>): void;
  /**
   * Stops accepting connections, waits up to the grace period for in-flight
   * requests, then runs the close hooks. Idempotent: every call returns the
   * same promise, which rejects if the grace period ran out or a hook failed.
   */
  shutdown(): Promise<void>;
}

const SIGNALS = ["SIGTERM", "SIGINT"] as const;
// setTimeout fires at once for anything longer than this.
const MAX_TIMER = 2 ** 31 - 1;

/**
 * Serves `handler` over HTTP on Deno or Bun, with graceful shutdown. On
 * SIGTERM/SIGINT, on `signal`, or on `shutdown()`, it
 * stops accepting, lets in-flight requests finish within the grace period,
 * then runs the close hooks in reverse order. A handler that throws still
 * answers a plain 500; the error goes to `onError`, never to the client.
 *
 * @example Usage
 * ```ts
 * import { serve } from "@cqi/http";
 *
 * const server = serve(() => new Response("hello"), {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * console.log(await res.text()); // "hello"
 * await server.shutdown();
 * ```
 *
 * @param handler The request handler, usually with middleware applied.
 * @param options Where to listen and how to shut down.
 * @returns The running server.
 */
export function serve(handler: Handler, options: ServeOptions = {}): Server {
  const onError = options.onError ?? defaultOnError;
  const gracePeriod = checkGracePeriod(options.gracePeriod ?? 10_000);
  const idleTimeoutSeconds = checkIdleTimeout(options.idleTimeout ?? 10_000);
  const onRefused = options.onRefused;
  const keepAlive = checkKeepAlive(options.keepAlive);
  // A broken callback must not fail the response: the connection is kept,
  // and the first failure is reported.
  let keepAliveFailed = false;
  const keepAliveFailure = (error: Error) => {
    if (keepAliveFailed) return;
    keepAliveFailed = true;
    report(onError, error);
  };
  const keepsAlive = () => {
    if (keepAlive === undefined) return true;
    let answer: unknown;
    try {
      answer = keepAlive();
    } catch (error) {
      keepAliveFailure(
        new Error("serve: the keepAlive callback threw", { cause: error }),
      );
      return true;
    }
    if (typeof answer === "boolean") return answer;
    keepAliveFailure(
      new TypeError(
        `serve: keepAlive must return a boolean, got ${typeof answer}`,
      ),
    );
    return true;
  };
  // The connection's last response once shutting down (or about to), so
  // that the client opens a new one (refused) rather than send its next
  // request down one the listener is about to close (a reset).
  const last = (res: Response) =>
    stopping || !keepsAlive() ? closeAfter(res) : res;
  const refused = (reason: "invalid_host" | "shutting_down") => {
    try {
      onRefused?.(reason);
    } catch {
      // a counter that throws must not turn a 400 into a dropped request
    }
  };
  // Set while shutting down a listener that keeps accepting until its
  // requests are answered (Deno): new requests are turned away.
  let draining = false;
  // Set once shutdown began, on both runtimes.
  let stopping = false;
  const guarded = async (req: Request): Promise<Response> => {
    if (!hasValidAuthority(req)) {
      refused("invalid_host");
      return last(jsonError(400, "invalid Host header", "INVALID_INPUT"));
    }
    if (draining) {
      refused("shutting_down");
      return jsonError(503, "server is shutting down", "UNAVAILABLE", {
        connection: "close",
        "retry-after": "1",
      });
    }
    try {
      const res = await handler(req);
      if (res instanceof Response) return listener.track(last(res));
      throw new TypeError(
        `serve: the handler returned ${typeof res} instead of a Response`,
      );
    } catch (error) {
      report(onError, error);
      return last(jsonError(500, "internal error", "INTERNAL"));
    }
  };

  // Listen from the root context: Bun runs every request in the async context
  // that was active when it started listening, which must not be the caller's.
  const listener = context.with(ROOT_CONTEXT, () =>
    listen(guarded, {
      hostname: options.hostname ?? "0.0.0.0",
      port: port(options),
      idleTimeoutSeconds,
      onListenerFailed: (error) => report(onError, error),
    }));
  // Deno cuts request bodies still arriving when its server shuts down, so
  // its listener keeps accepting until every response is out (see
  // `Listener.stop`) and new requests get a 503 meanwhile; Bun stops
  // accepting and lets them finish.
  // One turn of the event loop first: a request whose bytes arrived before
  // shutdown began, but which the runtime has not read yet, is a request
  // like the others. Without it Bun closed its connection as an idle one and
  // Deno answered it 503 and closed with its body still arriving.
  const stopListener = async (): Promise<void> => {
    stopping = true;
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (!listener.stopsAcceptingFirst) draining = true;
    return listener.stop();
  };
  const hooks: Array<() => void | Promise<void>> = [];
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => resolveFinished = resolve);
  let done = false;
  let shuttingDown: Promise<void> | undefined;
  let forceNow: (() => void) | undefined;

  const runHook = async (hook: () => void | Promise<void>) => {
    try {
      await hook();
    } catch (error) {
      return error;
    }
  };

  const run = async (): Promise<void> => {
    const errors: unknown[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<boolean>((resolve) => {
      forceNow = () => resolve(false);
      if (gracePeriod !== Infinity) timer = setTimeout(forceNow, gracePeriod);
    });
    const drained = await Promise.race([
      stopListener().then(() => true, (error) => {
        errors.push(error);
        return true;
      }),
      expired,
    ]);
    clearTimeout(timer);
    if (!drained) {
      const expiredError = new Error(
        `serve: shutdown grace period of ${gracePeriod} ms ran out with ${listener.pending()} request(s) in flight`,
      );
      errors.push(expiredError);
      listener.kill(expiredError); // the reason a cut body is cancelled with
    }
    // In reverse order of registration; a hook added meanwhile runs last.
    hooks.reverse();
    for (let i = 0; i < hooks.length; i++) {
      const error = await runHook(hooks[i]);
      if (error !== undefined) errors.push(error);
    }
    done = true;
    for (const error of errors) report(onError, error);
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new AggregateError(errors, "serve: shutdown was not clean");
    }
  };

  const shutdown = (): Promise<void> => {
    if (shuttingDown === undefined) {
      options.signal?.removeEventListener("abort", onAbort);
      shuttingDown = run().finally(() => {
        removeSignals(); // kept until now so a signal cannot kill the drain
        resolveFinished();
      });
      shuttingDown.catch(() => {}); // reported through onError already
    }
    return shuttingDown;
  };
  const onAbort = () => void shutdown();
  const onSignal = () => {
    if (shuttingDown === undefined) void shutdown();
    else forceNow?.(); // another signal skips the rest of the grace period
  };
  const removeSignals = options.handleSignals === false
    ? () => {}
    : onSignals(SIGNALS, onSignal);

  (options.onListen ?? printListening)(listener.addr);
  if (options.signal?.aborted) void shutdown();
  else options.signal?.addEventListener("abort", onAbort, { once: true });

  return {
    addr: listener.addr,
    finished,
    onClose(hook) {
      if (!done) hooks.push(hook);
      else {void runHook(hook).then((e) =>
          e !== undefined && report(onError, e)
        );}
    },
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}

function checkGracePeriod(ms: number): number {
  if (ms === Infinity || (ms >= 0 && ms <= MAX_TIMER)) return ms;
  throw new RangeError(
    `serve: gracePeriod must be milliseconds from 0 to ${MAX_TIMER}, or Infinity, got ${ms}`,
  );
}

function checkIdleTimeout(ms: number): number {
  if (ms >= 0 && ms <= 255_000) return Math.ceil(ms / 1000);
  throw new RangeError(
    `serve: idleTimeout must be milliseconds from 0 to 255000, got ${ms}`,
  );
}

function port(options: ServeOptions): number {
  if (options.port !== undefined) return checkPort(options.port, "port");
  const fromEnv = readEnv("PORT");
  if (fromEnv === undefined || fromEnv === "") return 8080;
  return checkPort(Number(fromEnv), `PORT "${fromEnv}"`);
}

function checkPort(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(
      `serve: ${what} is not a port (an integer from 0 to 65535)`,
    );
  }
  return value;
}

function report(onError: (error: unknown) => void, error: unknown): void {
  try {
    onError(error);
  } catch {
    // an error reporter that throws must not take the server down
  }
}

function defaultOnError(error: unknown): void {
  console.error("@cqi/http serve:", error);
}

function printListening({ hostname, port }: ServerAddr): void {
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  console.error(`Listening on http://${host}:${port}/`);
}

/**
 * `res` marked as its connection's last: `res` itself, or a copy when its
 * headers are immutable (`Response.redirect()`, a `fetch` response). A
 * WebSocket handshake (101) is left alone: its connection goes on.
 */
function closeAfter(res: Response): Response {
  if (res.status === 101) return res;
  if (res.type === "error") return res; // Response.error(): fails anyway
  return withHeaders(res, { connection: "close" });
}

function checkKeepAlive(
  keepAlive: ServeOptions["keepAlive"],
): ServeOptions["keepAlive"] {
  if (keepAlive === undefined || typeof keepAlive === "function") {
    return keepAlive;
  }
  throw new TypeError(
    `serve: keepAlive must be a function returning a boolean, got ${typeof keepAlive}`,
  );
}
