import { type Clock, systemClock } from "./clock.ts";
import { SlidingWindow } from "./window.ts";

/**
 * Options for {@linkcode createRetryBudget}.
 *
 * @example Usage
 * ```ts
 * import { createRetryBudget, type RetryBudgetOptions } from "@cqi/retry";
 *
 * const options: RetryBudgetOptions = { ratio: 0.1, minRetriesPerSecond: 5 };
 * const budget = createRetryBudget(options);
 * ```
 */
export interface RetryBudgetOptions {
  /**
   * Retries earned per call, as a fraction: `0.2` lets retries add at most
   * 20% to the load on a dependency. Default 0.2.
   */
  ratio?: number;
  /**
   * Retries always allowed per second on top of the ratio, so that a service
   * with little traffic can still retry. Default 10.
   */
  minRetriesPerSecond?: number;
  /** Milliseconds over which calls and retries are counted. Default 10,000. */
  window?: number;
  /** The time source; tests pass a fake one. Default: the system clock. */
  clock?: Clock;
}

/**
 * Caps retries to a fraction of calls so that a failing dependency does not
 * get every request multiplied by `maxAttempts` (a retry storm). Share one
 * budget between all the {@linkcode retry} calls that hit the same
 * dependency; `retry` deposits once per call and withdraws once per retry,
 * and gives up (throwing the last error) when the budget is spent.
 *
 * @example Usage
 * ```ts
 * import { createRetryBudget } from "@cqi/retry";
 *
 * const budget = createRetryBudget({ ratio: 0.5, minRetriesPerSecond: 0 });
 * budget.deposit();
 * budget.deposit();
 * console.log(budget.tryWithdraw(), budget.tryWithdraw()); // true false
 * ```
 */
export interface RetryBudget {
  /** Records a call (a first attempt), which earns `ratio` retries. */
  deposit(): void;
  /** Spends one retry if the budget allows it; `false` means do not retry. */
  tryWithdraw(): boolean;
  /** Retries available now (fractional: `ratio` per call). */
  readonly balance: number;
}

/**
 * Creates a {@linkcode RetryBudget}: over the last `window` milliseconds,
 * retries may not exceed `minRetriesPerSecond * window / 1000 + ratio *
 * calls`.
 *
 * @example With retry
 * ```ts
 * import { temporary } from "@cqi/errors";
 * import { retry, createRetryBudget } from "@cqi/retry";
 *
 * const budget = createRetryBudget({ ratio: 0.1 });
 * const quote = () =>
 *   retry(() => {
 *     throw temporary("quotes unavailable");
 *   }, { budget, maxAttempts: 2, initialDelay: 1 });
 * await quote().catch((err) => console.log(err.message));
 * ```
 *
 * @param options The ratio, the reserve, the window and the clock.
 * @returns The budget.
 * @throws {RangeError} When an option is out of range.
 */
export function createRetryBudget(
  options: RetryBudgetOptions = {},
): RetryBudget {
  const ratio = options.ratio ?? 0.2;
  if (!(ratio >= 0 && ratio < Infinity)) {
    throw new RangeError(
      `createRetryBudget: ratio must be a finite number >= 0, got ${ratio}`,
    );
  }
  const perSecond = options.minRetriesPerSecond ?? 10;
  if (!(perSecond >= 0 && perSecond < Infinity)) {
    throw new RangeError(
      `createRetryBudget: minRetriesPerSecond must be a finite number >= 0, got ${perSecond}`,
    );
  }
  const span = options.window ?? 10_000;
  if (!(span > 0 && span < Infinity)) {
    throw new RangeError(
      `createRetryBudget: window must be a finite number of milliseconds > 0, got ${span}`,
    );
  }
  const clock = options.clock ?? systemClock;
  const counts = new SlidingWindow(span, () => clock.now(), [
    "calls",
    "retries",
  ]);
  const reserve = perSecond * span / 1_000;
  const balance = () => {
    const { calls, retries } = counts.totals();
    return reserve + ratio * calls - retries;
  };
  return {
    deposit: () => counts.add("calls"),
    tryWithdraw: () => {
      // The epsilon absorbs float rounding, as in 0.7 * 90 = 62.99999999999999.
      if (balance() < 1 - 1e-9) return false;
      counts.add("retries");
      return true;
    },
    get balance() {
      return balance();
    },
  };
}
