import { wrap } from "@cqi/errors";
import { type Clock, exponential, systemClock } from "@cqi/retry";
import { startOrder } from "./order.ts";
import type { Service } from "./service.ts";
import { milliseconds } from "./milliseconds.ts";

/**
 * What a runner does when a service's `check` fails. `never` leaves it
 * failed (the runner reports unhealthy); `on-failure` stops and restarts it,
 * giving up after `maxAttempts` failed restarts in a row; `always` keeps
 * restarting it for as long as the runner runs (the backoff stays at its
 * cap).
 *
 * @example Usage
 * ```ts
 * import type { RestartPolicy } from "@cqi/service";
 *
 * const policy: RestartPolicy = "on-failure";
 * ```
 */
export type RestartPolicy = "never" | "always" | "on-failure";

/**
 * A service with per-service settings for {@linkcode RunnerOptions.services}.
 *
 * @example Usage
 * ```ts
 * import type { ServiceEntry } from "@cqi/service";
 *
 * const entry: ServiceEntry = {
 *   service: {
 *     name: "cache",
 *     start: () => Promise.resolve(),
 *     stop: () => Promise.resolve(),
 *   },
 *   startDelay: 500,
 *   restart: "never",
 * };
 * ```
 */
export interface ServiceEntry {
  /** The service. */
  service: Service;
  /** Milliseconds to wait before starting it. Default 0. */
  startDelay?: number;
  /** Overrides {@linkcode RunnerOptions.restart} for this service. */
  restart?: RestartPolicy;
}

/**
 * Where a service is in its life: `stopped`, `starting`, `running`,
 * `restarting` (its check failed; a restart is pending or under way),
 * `failed` (its check failed and it will not be restarted) or `stopping`.
 *
 * @example Usage
 * ```ts
 * import type { ServiceState } from "@cqi/service";
 *
 * const state: ServiceState = "running";
 * ```
 */
export type ServiceState =
  | "stopped"
  | "starting"
  | "running"
  | "restarting"
  | "failed"
  | "stopping";

/**
 * Something that happened to a service, for logs and metrics
 * ({@linkcode RunnerOptions.onEvent}).
 *
 * @example Usage
 * ```ts
 * import type { RunnerEvent } from "@cqi/service";
 *
 * const log = (e: RunnerEvent) =>
 *   console.log(e.type, e.service, e.error instanceof Error ? e.error.message : "");
 * log({ type: "started", service: "http" });
 * ```
 */
export interface RunnerEvent {
  /**
   * `started`, `stopped`, `start-failed`, `stop-failed`, `check-failed`,
   * `restarting` (with `attempt` and `delay`), `gave-up`.
   */
  type:
    | "started"
    | "stopped"
    | "start-failed"
    | "stop-failed"
    | "check-failed"
    | "restarting"
    | "gave-up";
  /** The service's name. */
  service: string;
  /** The error, for the failure events. */
  error?: unknown;
  /** For `restarting`: the restart attempt, from 1. */
  attempt?: number;
  /** For `restarting`: the backoff in ms before it. */
  delay?: number;
}

/**
 * Options for {@linkcode createRunner}. Durations are milliseconds.
 *
 * @example Usage
 * ```ts
 * import type { RunnerOptions } from "@cqi/service";
 *
 * const options: RunnerOptions = { services: [], checkInterval: 5_000, restart: "never" };
 * ```
 */
export interface RunnerOptions {
  /** The runner's own name, when it is nested in another. Default `runner`. */
  name?: string;
  /** The services, as they are or with settings; started in dependency order. */
  services: readonly (Service | ServiceEntry)[];
  /** Services this runner depends on, when it is nested. */
  dependsOn?: readonly string[];
  /** Default restart policy. Default `on-failure`. */
  restart?: RestartPolicy;
  /** Restarts in a row before `on-failure` gives up. Default 5. */
  maxAttempts?: number;
  /**
   * The delay before restart number `n` (from 0). Default: `exponential`
   * from `@cqi/retry`, 1 s doubling to 60 s, ±25% jitter. Any `Backoff`
   * from `@cqi/retry` fits.
   */
  backoff?: (retries: number, random?: () => number) => number;
  /** How often each service's `check` runs. Default 1000. */
  checkInterval?: number;
  /** How long one `check` may take before it counts as failed. Default: `checkInterval`. */
  checkTimeout?: number;
  /** Receives lifecycle events. Errors it throws are ignored. */
  onEvent?: (event: RunnerEvent) => void;
  /** The clock for intervals, delays and backoff. Default: the system clock. */
  clock?: Clock;
  /** Random numbers in `[0, 1)` for the jitter. Default `Math.random`. */
  random?: () => number;
}

/**
 * The aggregate health of a runner: `healthy` when every service is
 * running (or still starting), with each service's state by name.
 *
 * @example Usage
 * ```ts
 * import type { RunnerStatus } from "@cqi/service";
 *
 * const status: RunnerStatus = { status: "healthy", services: { http: "running" } };
 * ```
 */
export interface RunnerStatus {
  /** `unhealthy` when a service is `restarting`, `failed` or `stopped` while the runner runs. */
  status: "healthy" | "unhealthy";
  /** Each service's state. */
  services: Record<string, ServiceState>;
}

/**
 * A {@linkcode Service} that runs other services. Its `check` rejects while
 * the aggregate status is `unhealthy`, so it can be registered with
 * `createHealth().register(name, runner)` from `@cqi/health` or nested in
 * another runner.
 *
 * @example Usage
 * ```ts
 * import { type Runner, createRunner } from "@cqi/service";
 *
 * const app: Runner = createRunner({ services: [] });
 * await app.start(AbortSignal.timeout(1_000));
 * console.log(app.status().status); // "healthy"
 * await app.stop(AbortSignal.timeout(1_000));
 * ```
 */
export interface Runner extends Service {
  /** Rejects while {@linkcode Runner.status} is `unhealthy`. */
  check(signal: AbortSignal): Promise<void>;
  /** The aggregate status and every service's state. */
  status(): RunnerStatus;
}

interface Slot {
  service: Service;
  startDelay: number;
  restart: RestartPolicy;
  state: ServiceState;
  attempts: number;
  restarting?: Promise<void>;
}

/**
 * Makes a runner: `start` starts the services in dependency order (each
 * after its `startDelay`), and if one fails stops those already started in
 * reverse order and rejects; then it checks every service each
 * `checkInterval` and restarts failed ones by policy. `stop` stops the
 * monitoring, then every started service in reverse order; every `stop` runs
 * even if one fails, and it rejects with the failure (an `AggregateError`
 * when several failed). Duplicate names, missing dependencies and
 * dependency cycles throw a `TypeError` here, naming them.
 *
 * @example Usage
 * ```ts
 * import { createRunner, type Service } from "@cqi/service";
 *
 * const log: string[] = [];
 * const service = (name: string, dependsOn: string[] = []): Service => ({
 *   name,
 *   dependsOn,
 *   start: () => Promise.resolve(void log.push(`start ${name}`)),
 *   stop: () => Promise.resolve(void log.push(`stop ${name}`)),
 * });
 * const app = createRunner({
 *   services: [service("http", ["database"]), service("database")],
 * });
 * await app.start(AbortSignal.timeout(1_000));
 * await app.stop(AbortSignal.timeout(1_000));
 * console.log(log);
 * // ["start database", "start http", "stop http", "stop database"]
 * ```
 *
 * @param options The services and how to run them.
 * @returns The runner, itself a service.
 * @throws {TypeError} On a bad service list.
 * @throws {RangeError} On an out-of-range duration or count.
 */
export function createRunner(options: RunnerOptions): Runner {
  if (!Array.isArray(options?.services)) {
    throw new TypeError("createRunner: services must be an array");
  }
  const defaultPolicy = policyOption("restart", options.restart);
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(
      `createRunner: maxAttempts must be an integer >= 1, got ${maxAttempts}`,
    );
  }
  const interval = milliseconds(
    "createRunner",
    "checkInterval",
    options.checkInterval,
    1_000,
  );
  if (interval === 0) {
    throw new RangeError("createRunner: checkInterval must be > 0");
  }
  const checkTimeout = milliseconds(
    "createRunner",
    "checkTimeout",
    options.checkTimeout,
    interval,
  );
  const backoff = options.backoff ??
    exponential({
      initialDelay: 1_000,
      maxDelay: 60_000,
      multiplier: 2,
      jitter: 0.25,
    });
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const emit = (event: RunnerEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // a failing observer must not break the lifecycle
    }
  };

  const slots = startOrder(
    options.services.map((item): Slot => {
      const entry: ServiceEntry = isEntry(item) ? item : { service: item };
      return {
        service: entry.service,
        startDelay: milliseconds(
          "createRunner",
          "startDelay",
          entry.startDelay,
          0,
        ),
        restart: entry.restart === undefined
          ? defaultPolicy
          : policyOption("restart", entry.restart),
        state: "stopped",
        attempts: 0,
      };
    }),
    (slot) => slot.service,
  );

  let running = false;
  let monitor: AbortController | undefined;
  let monitoring: Promise<void> | undefined;
  const started: Slot[] = [];

  const stopSlots = async (list: Slot[], signal: AbortSignal) => {
    const errors: unknown[] = [];
    for (const slot of [...list].reverse()) {
      if (slot.state === "stopped") continue;
      slot.state = "stopping";
      try {
        await slot.service.stop(signal);
        emit({ type: "stopped", service: slot.service.name });
      } catch (error) {
        const wrapped = wrap(
          error,
          `service "${slot.service.name}" failed to stop`,
        );
        errors.push(wrapped);
        emit({ type: "stop-failed", service: slot.service.name, error });
      }
      slot.state = "stopped";
    }
    return errors;
  };

  const restartLoop = async (slot: Slot, signal: AbortSignal) => {
    while (!signal.aborted) {
      if (slot.restart === "on-failure" && slot.attempts >= maxAttempts) {
        slot.state = "failed";
        emit({ type: "gave-up", service: slot.service.name });
        return;
      }
      const delay = backoff(Math.min(slot.attempts, 30), random);
      slot.attempts++;
      emit({
        type: "restarting",
        service: slot.service.name,
        attempt: slot.attempts,
        delay,
      });
      try {
        await slot.service.stop(signal);
      } catch (error) {
        emit({ type: "stop-failed", service: slot.service.name, error });
      }
      try {
        await clock.sleep(delay, signal);
        await slot.service.start(signal);
        slot.state = "running";
        emit({ type: "started", service: slot.service.name });
        return;
      } catch (error) {
        if (signal.aborted) return;
        emit({ type: "start-failed", service: slot.service.name, error });
      }
    }
  };

  const checkOne = async (slot: Slot, signal: AbortSignal) => {
    const timer = new AbortController();
    const onAbort = () => timer.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    let timeoutId: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        slot.service.check!(timer.signal),
        new Promise<never>((_, reject) => {
          timeoutId = setTimeout(() => {
            const error = new Error(`check timed out after ${checkTimeout} ms`);
            timer.abort(error);
            reject(error);
          }, checkTimeout);
        }),
      ]);
      slot.attempts = 0; // a healthy check ends a run of restarts
    } catch (error) {
      if (signal.aborted || slot.state !== "running") return;
      emit({ type: "check-failed", service: slot.service.name, error });
      if (slot.restart === "never") {
        slot.state = "failed";
        return;
      }
      slot.state = "restarting";
      slot.restarting = restartLoop(slot, signal).finally(() => {
        slot.restarting = undefined;
      });
    } finally {
      clearTimeout(timeoutId);
      signal.removeEventListener("abort", onAbort);
    }
  };

  const monitorLoop = async (signal: AbortSignal) => {
    const checked = slots.filter((slot) => slot.service.check !== undefined);
    if (checked.length === 0) return;
    while (!signal.aborted) {
      try {
        await clock.sleep(interval, signal);
      } catch {
        return;
      }
      await Promise.all(
        checked
          .filter((slot) => slot.state === "running")
          .map((slot) => checkOne(slot, signal)),
      );
    }
  };

  const self: Runner = {
    name: options.name ?? "runner",
    dependsOn: options.dependsOn,
    async start(signal) {
      if (running) throw new Error(`runner "${self.name}" is already running`);
      running = true;
      started.length = 0;
      for (const slot of slots) {
        slot.attempts = 0;
        try {
          signal.throwIfAborted();
          if (slot.startDelay > 0) await clock.sleep(slot.startDelay, signal);
          slot.state = "starting";
          started.push(slot);
          await slot.service.start(signal);
          slot.state = "running";
          emit({ type: "started", service: slot.service.name });
        } catch (error) {
          emit({ type: "start-failed", service: slot.service.name, error });
          slot.state = "stopped"; // a failed start cleans up after itself
          await stopSlots(started, new AbortController().signal);
          started.length = 0;
          running = false;
          throw wrap(error, `service "${slot.service.name}" failed to start`);
        }
      }
      monitor = new AbortController();
      monitoring = monitorLoop(monitor.signal);
    },
    async stop(signal) {
      if (!running) return;
      monitor?.abort(new Error("runner stopping"));
      await monitoring;
      await Promise.all(slots.map((slot) => slot.restarting));
      const errors = await stopSlots(started, signal);
      started.length = 0;
      running = false;
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) {
        throw new AggregateError(
          errors,
          `runner "${self.name}": ${errors.length} services failed to stop`,
        );
      }
    },
    check() {
      const report = self.status();
      if (report.status === "healthy") return Promise.resolve();
      const bad = Object.entries(report.services)
        .filter(([, state]) => !healthy(state))
        .map(([name, state]) => `${name} ${state}`);
      return Promise.reject(
        new Error(`runner "${self.name}": ${bad.join(", ")}`),
      );
    },
    status() {
      const services: Record<string, ServiceState> = {};
      for (const slot of slots) services[slot.service.name] = slot.state;
      const ok = running && slots.every((slot) => healthy(slot.state));
      return { status: ok ? "healthy" : "unhealthy", services };
    },
  };
  return self;
}

function healthy(state: ServiceState): boolean {
  return state === "running" || state === "starting";
}

function isEntry(item: Service | ServiceEntry): item is ServiceEntry {
  return typeof item === "object" && item !== null && "service" in item;
}

function policyOption(
  name: string,
  value: RestartPolicy | undefined,
): RestartPolicy {
  if (value === undefined) return "on-failure";
  if (value !== "never" && value !== "always" && value !== "on-failure") {
    throw new TypeError(
      `createRunner: ${name} must be "never", "always" or "on-failure", got ${
        JSON.stringify(value)
      }`,
    );
  }
  return value;
}
