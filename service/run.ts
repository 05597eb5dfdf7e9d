import { type Clock, systemClock } from "@cqi/retry";
import type { Service } from "./service.ts";
import { milliseconds } from "./milliseconds.ts";
import { onSignals } from "@cqi/http";

/**
 * Options for {@linkcode run}. Durations are milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { RunOptions } from "@cqi/service";
 *
 * const options: RunOptions = { drainDelay: 5_000, gracePeriod: 25_000 };
 * ```
 */
export interface RunOptions {
  /**
   * The health registry (`createHealth()` from `@cqi/health`, or anything
   * with these methods): `markStarted()` once every service started,
   * `beginShutdown()` on the first signal.
   */
  health?: { markStarted(): void; beginShutdown(): void };
  /**
   * How long to keep serving after the signal, with readiness already
   * failing, before the services stop, so that load balancers stop routing
   * here first (a few seconds behind a Kubernetes Service). Another signal
   * ends it early. Default 0.
   */
  drainDelay?: number;
  /**
   * How long stopping the services may take, counted from the end of the
   * drain delay (the two add up); then their stop signal aborts and the
   * exit code is 1. Default 30,000.
   */
  gracePeriod?: number;
  /**
   * Run after the services stopped, last added first (tracing and log
   * flushes), each given the exit code so far; signals are still caught
   * while they run, so a second one cannot cut a flush short.
   */
  onShutdown?: readonly ((code: number) => void | Promise<void>)[];
  /** Signals that start the shutdown. Default `["SIGTERM", "SIGINT"]`. */
  signals?: readonly ("SIGTERM" | "SIGINT" | "SIGHUP" | "SIGQUIT")[];
  /** Aborting it starts the shutdown, like a signal (for embedding and tests). */
  signal?: AbortSignal;
  /** Called with the exit code at the end, such as `process.exit`. Default: none. */
  exit?: (code: number) => void;
  /** The clock for the drain delay and the grace period. Default: the system clock. */
  clock?: Clock;
  /** Receives progress (`info`) and failures (`error`). Default: `console`. */
  log?: {
    info(message: string): void;
    error(message: string, error?: unknown): void;
  };
}

/**
 * The one signal path of a CQI process: starts `service` (usually a
 * {@linkcode createRunner}), marks health as started, and waits for SIGTERM or
 * SIGINT. Then: readiness goes unhealthy (`health.beginShutdown()`), the
 * drain delay passes while requests are still served, the services stop in
 * reverse order within the grace period (which starts when the delay ends,
 * so the longest shutdown is `drainDelay + gracePeriod` plus the hooks), and
 * the `onShutdown` hooks run, last added first (each runs even if another
 * failed). Resolves with the exit code, also passed to `exit`: 0 after a
 * clean shutdown, 1 when starting or a stop or hook failed or the grace
 * period ran out (the reason is logged). Another signal during the drain
 * delay ends the delay (the services still get their grace period); one
 * while they stop cuts the grace period short.
 *
 * @example Usage
 * ```ts
 * import { httpService, run, createRunner } from "@cqi/service";
 *
 * const app = createRunner({
 *   services: [httpService(() => new Response("ok"), { port: 0, hostname: "127.0.0.1" })],
 * });
 * const shutdown = new AbortController(); // in production: SIGTERM
 * setTimeout(() => shutdown.abort(), 10);
 * const code = await run(app, { signal: shutdown.signal, log: { info() {}, error() {} } });
 * console.log(code); // 0
 * ```
 *
 * @param service What to run.
 * @param options Health, delays, hooks and how to exit.
 * @returns The exit code.
 */
export async function run(
  service: Service,
  options: RunOptions = {},
): Promise<number> {
  const drainDelay = milliseconds("run", "drainDelay", options.drainDelay, 0);
  const gracePeriod = milliseconds(
    "run",
    "gracePeriod",
    options.gracePeriod,
    30_000,
  );
  const clock = options.clock ?? systemClock;
  const log = options.log ?? {
    info: (message: string) => console.log(message),
    error: (message: string, error?: unknown) => console.error(message, error),
  };
  const finish = (code: number) => {
    options.exit?.(code);
    return code;
  };

  let onSignal: () => void = () => {};
  const signalled = new Promise<void>((resolve) => {
    onSignal = resolve;
  });
  let force: () => void = () => {};
  let signals = 0;
  const handler = () => {
    signals++;
    if (signals === 1) onSignal();
    else force();
  };
  const remove = onSignals(options.signals ?? ["SIGTERM", "SIGINT"], handler);
  const onAbort = () => handler();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) handler();

  let code = 0;
  try {
    const starting = new AbortController();
    const stopStarting = () => starting.abort(new Error("shutdown signal"));
    void signalled.then(stopStarting);
    try {
      await service.start(starting.signal);
    } catch (error) {
      log.error(`${service.name}: failed to start`, error);
      return finish(await hooks(options.onShutdown, log, 1));
    }
    options.health?.markStarted();
    log.info(`${service.name}: started`);

    await signalled;
    log.info(`${service.name}: shutting down`);
    options.health?.beginShutdown();
    if (drainDelay > 0) {
      // Readiness fails, requests are still served; another signal ends it.
      const delay = new AbortController();
      force = () => delay.abort(new Error("another signal"));
      await clock.sleep(drainDelay, delay.signal).catch(() => {});
    }

    // The grace period starts now, whatever the delay took.
    const stopping = new AbortController();
    force = () => stopping.abort(new Error("another signal"));
    const stopped = new AbortController();
    void clock.sleep(gracePeriod, stopped.signal).then(
      () =>
        stopping.abort(new Error(`grace period of ${gracePeriod} ms ran out`)),
      () => {}, // the services stopped in time
    );
    try {
      await Promise.race([
        service.stop(stopping.signal),
        aborted(stopping.signal),
      ]);
    } catch (error) {
      code = 1;
      log.error(`${service.name}: stop failed`, error);
    } finally {
      stopped.abort();
    }
    if (code === 0 && stopping.signal.aborted) {
      code = 1;
      log.error(`${service.name}: stop cut short`, stopping.signal.reason);
    }
    code = await hooks(options.onShutdown, log, code);
    if (code === 0) log.info(`${service.name}: stopped`);
    return finish(code);
  } finally {
    remove();
    options.signal?.removeEventListener("abort", onAbort);
  }
}

async function hooks(
  list: RunOptions["onShutdown"],
  log: NonNullable<RunOptions["log"]>,
  code: number,
): Promise<number> {
  for (const hook of [...(list ?? [])].reverse()) {
    try {
      await hook(code);
    } catch (error) {
      code = 1;
      log.error("shutdown hook failed", error);
    }
  }
  return code;
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), {
      once: true,
    });
  });
}
