import type { ServerAddr } from "./serve.ts";
import { TrackedBodies } from "./tracked_body.ts";

/**
 * What `serve` reports to `onError` when a runtime's accept loop failed —
 * on Deno, `Too many open files` under a connection flood — and it listens
 * again after `retryIn` milliseconds. The runtime's error is the `cause`.
 *
 * @example Usage
 * ```ts
 * import { ListenerError, serve } from "@cqi/http";
 *
 * let listenerFailures = 0;
 * const server = serve(() => new Response("ok"), {
 *   port: 0,
 *   handleSignals: false,
 *   onError: (error) => {
 *     if (error instanceof ListenerError) listenerFailures++;
 *   },
 * });
 * await server.shutdown();
 * console.log(listenerFailures); // 0
 * ```
 */
export class ListenerError extends Error {
  /** Milliseconds until the next attempt to listen. */
  readonly retryIn: number;
  /**
   * Describes a failed listener on `port`, retried after `retryIn` ms.
   *
   * @param port The port the listener was on.
   * @param retryIn Milliseconds until the next attempt.
   * @param cause What the runtime threw.
   */
  constructor(port: number, retryIn: number, cause: unknown) {
    super(
      `serve: the listener on port ${port} failed; listening again in ${retryIn} ms`,
      { cause },
    );
    this.name = "ListenerError";
    this.retryIn = retryIn;
  }
}

/** A runtime's HTTP listener, as `serve` drives it. Internal. */
export interface Listener {
  addr: ServerAddr;
  /**
   * Graceful stop: resolves once every response is written in full, then
   * closes (Bun) or abandons to the process exit (Deno) the connections
   * left, which carry no request: idle ones, a head never finished, a body
   * nobody reads. Bun stops accepting at once; Deno, which cuts a request
   * body still arriving when its server shuts down, only once every
   * response is out (`stopsAcceptingFirst` false: `serve` turns new
   * requests away meanwhile).
   */
  stop(): Promise<void>;
  /** Responses not yet written in full (handlers running or streaming). */
  pending(): number;
  /**
   * The response to hand to the runtime for `res`: on Deno, a streaming
   * body goes through a stream that `kill` can cut; otherwise `res`.
   */
  track(res: Response): Response;
  /**
   * Drops whatever is still open so the process can exit: closes the
   * connections (Bun), or cancels every response body still streaming with
   * `reason`, which closes their connections (Deno).
   */
  kill(reason: unknown): void;
  /** Whether the runtime stops accepting before in-flight requests end. */
  stopsAcceptingFirst: boolean;
}

/** How {@linkcode listen} starts a listener. Internal. */
export interface ListenOptions {
  hostname: string;
  port: number;
  /** Seconds a connection may be idle (Bun); 0 for none. */
  idleTimeoutSeconds: number;
  /** An accept loop failed; a new listener follows after `retryIn` ms. */
  onListenerFailed: (error: Error) => void;
}

interface BunServer {
  port: number;
  hostname: string;
  pendingRequests: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

interface BunRuntime {
  serve(options: {
    port: number;
    hostname: string;
    development: boolean;
    idleTimeout: number;
    fetch: (req: Request) => Promise<Response>;
  }): BunServer;
}

// A failed accept loop (out of file descriptors, say) is retried after this
// long, doubling up to the cap: the listener is back soon after the
// descriptors are, without spinning while they are not.
const RETRY_FIRST = 50;
const RETRY_CAP = 1_000;
// How long a stopping Deno listener waits, once every response is handed
// over, for its connections to close before it leaves them to the exit.
const DENO_LINGER = 1_000;
// How often a stopping Bun listener looks whether every response is out.
const PENDING_POLL = 20;
// How many looks in a row must find no response pending before a stopping
// Bun listener closes the connections left (which carry no request).
const QUIET_POLLS = 3;

/**
 * Listens on Bun (`Bun.serve`) or Deno (`Deno.serve`). On Deno, an accept
 * loop that fails — `Too many open files` under a connection flood — ends
 * the listener and rejects its `finished`; this starts a new one on the
 * same port, retrying with backoff, and reports each failure. Bun keeps its
 * listener through the same flood. Internal to `serve`.
 */
export function listen(
  handler: (req: Request) => Promise<Response>,
  options: ListenOptions,
): Listener {
  const bun = (globalThis as { Bun?: BunRuntime }).Bun;
  if (bun !== undefined) {
    const server = bun.serve({
      port: options.port,
      hostname: options.hostname,
      development: false,
      idleTimeout: options.idleTimeoutSeconds,
      fetch: handler,
    });
    let killed = false;
    return {
      addr: { hostname: server.hostname, port: server.port },
      stop: async () => {
        const graceful = server.stop(false);
        // Bun counts a response until it is written in full; a connection
        // that never finishes a head would hold `graceful` until its idle
        // timeout. Bun has no event for the count reaching 0: look often,
        // and close what is left only after the count stayed 0 for
        // QUIET_POLLS looks: bytes a client sent just before the shutdown
        // are read (and counted) in a later turn of Bun's loop, and closing
        // at once would reset a request already on its way.
        for (let quiet = 0; quiet < QUIET_POLLS && !killed;) {
          await new Promise((resolve) => setTimeout(resolve, PENDING_POLL));
          quiet = server.pendingRequests > 0 ? 0 : quiet + 1;
        }
        if (!killed) void server.stop(true); // what is left carries no request
        await graceful;
      },
      pending: () => server.pendingRequests,
      track: (res) => res,
      kill: () => {
        killed = true;
        void server.stop(true);
      },
      stopsAcceptingFirst: true,
    };
  }
  if (typeof globalThis.Deno?.serve === "function") {
    return denoListener(handler, options);
  }
  throw new Error("serve: needs Deno (Deno.serve) or Bun (Bun.serve)");
}

function denoListener(
  handler: (req: Request) => Promise<Response>,
  options: ListenOptions,
): Listener {
  let retryIn = RETRY_FIRST;
  const bodies = new TrackedBodies();
  // Responses not yet written in full, and who waits for none to be left.
  let responding = 0;
  let onIdle: (() => void) | undefined;
  const completed = () => {
    if (--responding === 0) onIdle?.();
  };
  const served = (req: Request, info: Deno.ServeHandlerInfo) => {
    retryIn = RETRY_FIRST; // it serves: the next failure retries soon
    responding++;
    info.completed.then(completed, completed);
    return handler(req);
  };
  // Deno passes here the error of a response body that failed while being
  // written (the handler's own errors never reach it: `serve` answers
  // them). A body `kill` cut fails with its reason, which is no news;
  // anything else is printed, as Deno does by default.
  let cutWith: { reason: unknown } | undefined;
  const onError = (error: unknown) => {
    if (cutWith === undefined || error !== cutWith.reason) console.error(error);
    return new Response("Internal Server Error", { status: 500 });
  };
  const start = (port: number) =>
    Deno.serve(
      { port, hostname: options.hostname, onListen() {}, onError },
      served,
    );
  let server = start(options.port);
  let failed = false;
  const addr = server.addr as Deno.NetAddr;
  let stopping = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const restart = () => {
    timer = undefined;
    if (stopping) return;
    try {
      server = start(addr.port);
    } catch (error) {
      fail(error);
      return;
    }
    failed = false;
    watch(server);
  };
  const fail = (error: unknown) => {
    failed = true;
    if (stopping) return;
    options.onListenerFailed(new ListenerError(addr.port, retryIn, error));
    timer = setTimeout(restart, retryIn);
    retryIn = Math.min(retryIn * 2, RETRY_CAP);
  };
  const watch = (current: Deno.HttpServer) => {
    current.finished.catch(fail);
  };
  watch(server);
  return {
    addr: { hostname: addr.hostname, port: addr.port },
    stop: async () => {
      stopping = true;
      clearTimeout(timer);
      if (responding > 0) await new Promise<void>((r) => onIdle = r);
      if (failed) return; // a failed listener has nothing left to close
      // Every response is handed over. Deno's own shutdown flushes them and
      // closes idle connections, but also waits for any that carry no
      // request (a head never finished, a body nobody reads) as long as
      // their client likes: past a short linger, leave those to the exit.
      let linger: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        server.shutdown().catch(() => {}),
        new Promise((resolve) => linger = setTimeout(resolve, DENO_LINGER)),
      ]);
      clearTimeout(linger);
      server.unref();
    },
    pending: () => responding,
    track: (res) => bodies.track(res),
    kill: (reason) => {
      stopping = true;
      clearTimeout(timer);
      // Past the grace period: stop accepting and cut the bodies still
      // streaming (Deno's shutdown waits for them, and so would the process);
      // a handler still running is left to the process exit.
      cutWith = { reason };
      bodies.cut(reason);
      if (!failed) server.shutdown().catch(() => {});
      server.unref();
    },
    stopsAcceptingFirst: false,
  };
}
