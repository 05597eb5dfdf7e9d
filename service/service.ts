/**
 * A long-running part of a process: an HTTP server, a database pool, a
 * consumer. A {@linkcode createRunner} starts services in dependency order, checks
 * them, restarts them by policy and stops them in reverse order; a runner is
 * itself a `Service`, so runners nest.
 *
 * `start` resolves once the service is ready to be used (a server listens)
 * and must be callable again after `stop` (the runner restarts a service by
 * stopping and starting it). `stop` resolves once the service released
 * everything; it should hurry when `signal` aborts. `check`, when present,
 * rejects while the service is unhealthy; `dependsOn` names services that
 * must be started first (and stopped after it).
 *
 * @example A service of your own
 * ```ts
 * import type { Service } from "@cqi/service";
 *
 * let timer: ReturnType<typeof setInterval> | undefined;
 * const ticker: Service = {
 *   name: "ticker",
 *   start: () => {
 *     timer = setInterval(() => {}, 1_000);
 *     return Promise.resolve();
 *   },
 *   stop: () => {
 *     clearInterval(timer);
 *     return Promise.resolve();
 *   },
 *   check: () => timer === undefined ? Promise.reject(new Error("not started")) : Promise.resolve(),
 * };
 * await ticker.start(new AbortController().signal);
 * await ticker.stop(new AbortController().signal);
 * ```
 */
export interface Service {
  /** A name unique within its runner, such as `http` or `database`. */
  readonly name: string;
  /** Starts the service; rejects when it cannot. Aborting `signal` cancels. */
  start(signal: AbortSignal): Promise<void>;
  /** Stops the service; aborting `signal` means hurry (the grace period ran out). */
  stop(signal: AbortSignal): Promise<void>;
  /** Rejects while the service is unhealthy. Optional. */
  check?(signal: AbortSignal): Promise<void>;
  /** Names of services in the same runner that must start before this one. */
  readonly dependsOn?: readonly string[];
}
