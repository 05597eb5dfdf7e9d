import { serve, type Server } from "@cqi/http";
import type { Service } from "./service.ts";

/**
 * Options for {@linkcode httpService}: those of `serve` from `@cqi/http`
 * except `signal` and `handleSignals` (the service owns the lifecycle and
 * {@linkcode run} owns the signals), plus a `name`.
 *
 * @example Usage
 * ```ts
 * import type { HttpServiceOptions } from "@cqi/service";
 *
 * const options: HttpServiceOptions = { port: 8080, gracePeriod: 10_000 };
 * ```
 */
export interface HttpServiceOptions {
  /** Port to listen on; `0` picks a free one. Default: `PORT`, else 8080. */
  port?: number;
  /** Interface to listen on. Default: `0.0.0.0`. */
  hostname?: string;
  /** Milliseconds in-flight requests get to finish on stop. Default 10,000. */
  gracePeriod?: number;
  /**
   * Milliseconds a connection may be idle before it is closed (Bun only;
   * see `serve`). Default 10,000.
   */
  idleTimeout?: number;
  /**
   * Asked as each response goes out: `false` makes it its connection's last
   * (`connection: close`). `bootstrap().run` answers `false` during the
   * drain delay. See `serve`.
   */
  keepAlive?: () => boolean;
  /** Called each time the server listens. */
  onListen?: (addr: HttpServiceAddr) => void;
  /**
   * Receives errors that escaped the handler and `ListenerError`s (an
   * accept loop failed and the server listens again). Default:
   * `console.error`.
   */
  onError?: (error: unknown) => void;
  /**
   * Called for each request the server answers itself: an invalid `Host`
   * (400) or one that came while it drains (503). See `serve`.
   */
  onRefused?: (reason: "invalid_host" | "shutting_down") => void;
  /** The service's name. Default `http`. */
  name?: string;
  /** Services that must start first, such as `database`. */
  dependsOn?: readonly string[];
}

/**
 * Where an {@linkcode HttpService} listens.
 *
 * @example Usage
 * ```ts
 * import type { HttpServiceAddr } from "@cqi/service";
 *
 * const addr: HttpServiceAddr = { hostname: "127.0.0.1", port: 8080 };
 * ```
 */
export interface HttpServiceAddr {
  /** The interface, such as `127.0.0.1`. */
  hostname: string;
  /** The port. */
  port: number;
}

/**
 * An HTTP server as a {@linkcode Service}. Its `addr` is where the server
 * listens while it runs.
 *
 * @example Usage
 * ```ts
 * import { type HttpService, httpService } from "@cqi/service";
 *
 * const http: HttpService = httpService(() => new Response("ok"), { port: 0, hostname: "127.0.0.1" });
 * await http.start(AbortSignal.timeout(1_000));
 * console.log(http.addr?.port !== undefined); // true
 * await http.stop(AbortSignal.timeout(1_000));
 * ```
 */
export interface HttpService extends Service {
  /** The address while started; `undefined` otherwise. */
  readonly addr: HttpServiceAddr | undefined;
}

/**
 * Runs `serve` of `@cqi/http` as a `Service` (signals are the runner's).
 * `start` listens (and rejects when it cannot, such as a port in use);
 * `stop` shuts down gracefully, letting in-flight requests finish within
 * `gracePeriod`, and rejects when the grace period ran out. Aborting the
 * `stop` signal is the same as the grace period running out. `check`
 * rejects while no server runs. The service can be started again after it
 * stopped.
 *
 * @example Usage
 * ```ts
 * import { httpService, createRunner } from "@cqi/service";
 *
 * const http = httpService(() => new Response("hello"), { port: 0, hostname: "127.0.0.1" });
 * const app = createRunner({ services: [http] });
 * await app.start(AbortSignal.timeout(1_000));
 * const res = await fetch(`http://127.0.0.1:${http.addr!.port}/`);
 * console.log(await res.text()); // "hello"
 * await app.stop(AbortSignal.timeout(5_000));
 * ```
 *
 * @param handler The fetch handler, middleware applied.
 * @param options Where to listen and the grace period.
 * @returns The service, named `http` unless told otherwise.
 */
export function httpService(
  handler: (req: Request) => Response | Promise<Response>,
  options: HttpServiceOptions = {},
): HttpService {
  const { name = "http", dependsOn, ...serveOptions } = options;
  let server: Server | undefined;
  let stopping = false;
  // stop() reports shutdown failures to its caller; everything else (errors
  // that escaped the handler, a failed listener) is printed unless onError
  // is given.
  const onError = (error: unknown) => {
    if (!stopping) console.error("@cqi/service httpService:", error);
  };
  return {
    name,
    dependsOn,
    get addr() {
      return server?.addr;
    },
    start(signal) {
      try {
        signal.throwIfAborted();
        if (server === undefined) stopping = false;
        server ??= serve(handler, {
          onError,
          ...serveOptions,
          handleSignals: false,
        });
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    },
    async stop(signal) {
      const current = server;
      if (current === undefined) return;
      stopping = true;
      const controller = new AbortController();
      const onAbort = () => controller.abort(signal.reason);
      if (signal.aborted) onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        await Promise.race([
          current.shutdown(),
          new Promise<never>((_, reject) =>
            controller.signal.addEventListener("abort", () =>
              reject(
                new Error(
                  `${name}: shutdown cut short: ${describe(signal.reason)}`,
                  {
                    cause: signal.reason,
                  },
                ),
              ), { once: true })
          ),
        ]);
      } finally {
        signal.removeEventListener("abort", onAbort);
        server = undefined;
      }
    },
    check() {
      return server === undefined
        ? Promise.reject(new Error(`${name}: not listening`))
        : Promise.resolve();
    },
  };
}

function describe(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
