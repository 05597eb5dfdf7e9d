// Checks of createBus's numeric options: a TypeError naming the option.

/** A whole number from `min` (default 1) up to `max`. */
export function whole(
  value: unknown,
  name: string,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (
    !Number.isInteger(value) || (value as number) < min ||
    (value as number) > max
  ) {
    throw new TypeError(
      `createBus: ${name} must be a whole number from ${min}${
        max === Number.MAX_SAFE_INTEGER ? "" : ` to ${max}`
      }`,
    );
  }
  return value as number;
}

/** Milliseconds above 0 that a timer can wait, or `fallback` when absent. */
export function duration(
  value: unknown,
  fallback: number,
  name: string,
): number;
export function duration(
  value: unknown,
  fallback: undefined,
  name: string,
): number | undefined;
export function duration(
  value: unknown,
  fallback: number | undefined,
  name: string,
): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value > 0) || value > 2 ** 31 - 1) {
    throw new TypeError(
      `createBus: ${name} must be a positive number of milliseconds`,
    );
  }
  return value;
}
