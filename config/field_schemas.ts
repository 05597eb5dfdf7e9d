// Building blocks for the section schemas. Not exported from mod.ts.
import * as v from "valibot";
import type { ConfigSchema } from "./valibot_adapter.ts";

/** A TCP port, 1–65535; with `listen`, also 0 (any free port). */
export function port(listen = false): ConfigSchema<number> {
  const message = listen
    ? "expected a port number 0-65535 (0: any free port)"
    : "expected a port number 1-65535";
  return v.pipe(
    v.number("expected a number"),
    v.integer(message),
    v.minValue(listen ? 0 : 1, message),
    v.maxValue(65_535, message),
  );
}

/** A whole number of at least `min`, and with `max` at most `max`. */
export function wholeNumber(min: number, max?: number): ConfigSchema<number> {
  if (max !== undefined) {
    const message = `expected a whole number from ${min} to ${max}`;
    return v.pipe(
      v.number("expected a number"),
      v.integer(message),
      v.minValue(min, message),
      v.maxValue(max, message),
    );
  }
  const message = min === 1
    ? "expected a positive whole number"
    : `expected a whole number >= ${min}`;
  return v.pipe(
    v.number("expected a number"),
    v.integer(message),
    v.minValue(min, message),
  );
}

/** A number in `[min, max]`. */
export function between(min: number, max: number): ConfigSchema<number> {
  const message = `expected a number from ${min} to ${max}`;
  return v.pipe(
    v.number("expected a number"),
    v.minValue(min, message),
    v.maxValue(max, message),
  );
}

/** A non-empty string. */
export function text(): ConfigSchema<string> {
  return v.pipe(
    v.string("expected a string"),
    v.minLength(1, "expected a non-empty string"),
  );
}

/** `true` or `false` (strings are coerced by the loader). */
export function flag(): ConfigSchema<boolean> {
  return v.boolean("expected true or false");
}

/** One of `options`. */
export function oneOf<const T extends readonly string[]>(
  options: T,
): ConfigSchema<T[number]> {
  return v.picklist(
    options,
    `expected one of ${options.map((o) => JSON.stringify(o)).join(", ")}`,
  );
}

/** A list (a comma-separated string in the environment). */
export function list<T>(item: ConfigSchema<T>): ConfigSchema<T[]> {
  return v.array(item, "expected a list");
}

/** A required field. */
export function requiredField<T>(
  schema: ConfigSchema<T>,
  description: string,
): ConfigSchema<T> {
  return v.pipe(schema, v.description(description));
}

/** An optional field that is `undefined` when not set. */
export function optionalField<T>(
  schema: ConfigSchema<T>,
  description: string,
): ConfigSchema<T | undefined> {
  return v.optional(v.pipe(schema, v.description(description)));
}

/** An optional field with a default (given as file input, such as `"30s"`). */
export function withDefault<T>(
  schema: ConfigSchema<T>,
  fallback: unknown,
  description: string,
): ConfigSchema<T> {
  // The default is file input (such as "30s"), validated by `schema`, so
  // the output never is `undefined`; valibot cannot see that from `unknown`.
  return v.optional(
    v.pipe(schema, v.description(description)),
    fallback,
  ) as ConfigSchema<T>;
}
