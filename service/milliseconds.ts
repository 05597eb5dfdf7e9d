// The longest delay a timer holds; setTimeout fires at once past it.
const MAX_TIMER = 2 ** 31 - 1;

/**
 * `value` if it is milliseconds a timer can hold, `fallback` when it is
 * `undefined`; otherwise a `RangeError` naming `where` and `name`. Internal.
 */
export function milliseconds(
  where: string,
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!(value >= 0 && value <= MAX_TIMER)) {
    throw new RangeError(
      `${where}: ${name} must be milliseconds from 0 to ${MAX_TIMER}, got ${value}`,
    );
  }
  return value;
}
