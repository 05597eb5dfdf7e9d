import { timeout as timedOut } from "@cqi/errors";

/**
 * A dependency check: resolves when the dependency is usable, rejects (with
 * an error saying why) when it is not. It should stop its work when
 * `signal` aborts, which happens when it runs past its timeout.
 *
 * @example Usage
 * ```ts
 * import type { CheckFn } from "@cqi/health";
 *
 * const alwaysOk: CheckFn = () => Promise.resolve();
 * ```
 */
export type CheckFn = (signal: AbortSignal) => Promise<void>;

/**
 * What {@linkcode Health.register} accepts: a {@linkcode CheckFn}, or an
 * object with a `check` method — the shape database, cache and bus clients
 * expose — and an optional `critical` flag. A critical checker (the
 * default) that fails makes the service unready; a non-critical one only
 * reports its error (graceful degradation).
 *
 * @example Usage
 * ```ts
 * import type { Checker } from "@cqi/health";
 *
 * const cache: Checker = {
 *   check: () => Promise.reject(new Error("connection refused")),
 *   critical: false,
 * };
 * ```
 */
export type Checker = CheckFn | {
  /** Resolves when the dependency is usable. */
  check(signal: AbortSignal): Promise<void>;
  /** Whether a failure makes the service unready. Default `true`. */
  critical?: boolean;
  /**
   * Milliseconds (1 to 2^31-1) this checker may run before it counts as
   * failed, instead of the registry's `timeout`. Give a non-critical checker a short one: a
   * silent dependency then cannot hold a readiness probe past the probe's
   * own timeout (Kubernetes' default is 1 s).
   */
  timeout?: number;
};

/** The longest timer there is: setTimeout fires at once beyond it. */
export const MAX_TIMER = 2 ** 31 - 1;

/** A registered checker, normalised. */
export interface Entry {
  readonly name: string;
  readonly check: CheckFn;
  readonly critical: boolean;
  /** Its own timeout in milliseconds, if it has one. */
  readonly timeout?: number;
}

/** The outcome of one run of one checker. */
export interface Outcome {
  readonly entry: Entry;
  /** `undefined` when the check passed. */
  readonly error: unknown;
  /** How long it ran, in seconds. */
  readonly seconds: number;
}

/** Validates and normalises a checker. */
export function toEntry(name: string, checker: Checker): Entry {
  if (typeof name !== "string" || name === "") {
    throw new TypeError("health: a check name must be a non-empty string");
  }
  if (typeof checker === "function") {
    return { name, check: checker, critical: true };
  }
  if (
    typeof checker !== "object" || checker === null ||
    typeof checker.check !== "function"
  ) {
    throw new TypeError(
      `health: checker ${
        JSON.stringify(name)
      } must be a function or an object with a check(signal) method`,
    );
  }
  const critical = checker.critical ?? true;
  if (typeof critical !== "boolean") {
    throw new TypeError(
      `health: critical of checker ${JSON.stringify(name)} must be a boolean`,
    );
  }
  const timeout = checker.timeout;
  if (
    timeout !== undefined &&
    !(typeof timeout === "number" && timeout >= 1 && timeout <= MAX_TIMER)
  ) {
    // a number out of range is a RangeError, as the registry's timeout
    const Problem = typeof timeout === "number" ? RangeError : TypeError;
    throw new Problem(
      `health: timeout of checker ${
        JSON.stringify(name)
      } must be milliseconds from 1 to ${MAX_TIMER}`,
    );
  }
  return {
    name,
    check: (signal) => checker.check(signal),
    critical,
    timeout,
  };
}

/**
 * Runs one checker under a timeout. The checker's signal aborts when the
 * timeout fires or `parent` aborts; the returned promise settles then and
 * does not wait for a checker that ignores its signal.
 */
export async function runEntry(
  entry: Entry,
  ms: number,
  parent: AbortSignal,
): Promise<Outcome> {
  const controller = new AbortController();
  const signal = controller.signal;
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  else parent.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(timedOut("timed out")), ms);
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason));
  });
  aborted.catch(() => {}); // settled by the race, or never
  const started = performance.now();
  let error: unknown;
  try {
    await Promise.race([
      aborted,
      Promise.resolve().then(() => entry.check(signal)),
    ]);
  } catch (err) {
    error = err ?? new Error("check failed");
  } finally {
    clearTimeout(timer);
    parent.removeEventListener("abort", onAbort);
  }
  return { entry, error, seconds: (performance.now() - started) / 1000 };
}

/**
 * The text shown for a failed check: the error's message (its first line,
 * never a stack), or just `error` when errors are not exposed.
 */
export function describe(error: unknown, expose: boolean): string {
  if (!expose) return "error";
  let message: string;
  if (error instanceof Error) message = error.message;
  else if (typeof error === "string") message = error;
  else return "error";
  const line = message.split("\n", 1)[0].trim();
  return line === "" ? "error" : `error: ${line}`;
}
