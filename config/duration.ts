import * as v from "valibot";
import type { ConfigSchema } from "./valibot_adapter.ts";

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)/y;
const PLAIN = /^(?:\d+(?:\.\d+)?|\.\d+)$/;

/**
 * Parses a duration into milliseconds: a number of milliseconds (`250`,
 * `"250"`) or a Go-style duration with units `h`, `m`, `s` and `ms`, alone
 * or combined (`"5s"`, `"250ms"`, `"1m30s"`, `"1.5h"`). Returns `undefined`
 * for anything else, including negative values.
 *
 * @example Usage
 * ```ts
 * import { parseDuration } from "@cqi/config";
 *
 * console.log(parseDuration("5s"), parseDuration("1m30s"), parseDuration(250)); // 5000 90000 250
 * console.log(parseDuration("soon")); // undefined
 * ```
 *
 * @param input A duration string or a number of milliseconds.
 * @returns Milliseconds, or `undefined` when `input` is not a duration.
 */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === "number") {
    return Number.isFinite(input) && input >= 0 ? input : undefined;
  }
  const text = input.trim();
  if (PLAIN.test(text)) return parseDuration(Number(text));
  if (text === "") return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (match === null) return undefined;
    total += Number(match[1]) * UNITS[match[2]];
  }
  return parseDuration(total); // too many digits: Infinity, not a duration
}

/** Marks a schema as a duration for the docs. */
export const DURATION_METADATA: { readonly format: "duration" } = {
  format: "duration",
};

/**
 * A schema for a positive duration in milliseconds: accepts a number of
 * milliseconds or a duration string (see {@linkcode parseDuration}) and
 * yields milliseconds, the unit every CQI option takes. With `allowZero`,
 * `0` (`"0s"`) is accepted too, for delays that are off by default.
 *
 * @example Usage
 * ```ts
 * import * as v from "valibot";
 * import { duration } from "@cqi/config";
 *
 * const schema = v.object({
 *   pollInterval: v.optional(duration(), "10s"),
 *   startDelay: v.optional(duration({ allowZero: true }), "0s"),
 * });
 * console.log(v.parse(schema, {})); // { pollInterval: 10000, startDelay: 0 }
 * console.log(v.parse(schema, { pollInterval: "250ms" })); // { pollInterval: 250, startDelay: 0 }
 * ```
 *
 * @param options `allowZero`: accept a zero duration. Default `false`.
 * @returns The schema.
 */
export function duration(
  options: { allowZero?: boolean } = {},
): ConfigSchema<number> {
  return v.pipe(
    v.union(
      [v.number(), v.string()],
      'expected a duration such as "5s", "250ms", "1m" or milliseconds',
    ),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const ms = parseDuration(dataset.value);
      if (ms === undefined) {
        addIssue({
          message:
            'expected a duration such as "5s", "250ms", "1m" or milliseconds',
        });
        return NEVER;
      }
      return ms;
    }),
    v.minValue(
      options.allowZero ? 0 : Number.MIN_VALUE,
      options.allowZero
        ? "expected a duration of zero or more"
        : "expected a positive duration",
    ),
    v.metadata(DURATION_METADATA),
  );
}
