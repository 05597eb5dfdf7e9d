import {
  invalidInput,
  permanent,
  schemaError,
  type StandardSchemaV1,
} from "@cqi/errors";
import type { Codec } from "./codec.ts";
import { assertBytes, describe } from "./input.ts";

/**
 * Options for {@linkcode json}.
 *
 * @example Usage
 * ```ts
 * import type { JsonOptions } from "@cqi/codec";
 *
 * const options: JsonOptions = { name: "Order" };
 * ```
 */
export interface JsonOptions {
  /** The type name in error messages and headers. Default `"JSON"`. */
  name?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * A value nested deeper than this, whose schema answered with a promise, is
 * taken to have overflowed the stack (zod 4 does so from about 4,000 levels).
 */
const MAX_SYNC_DEPTH = 256;

/**
 * A {@linkcode Codec} for JSON as UTF-8, content type `application/json`,
 * whose `decode` validates with any Standard Schema v1 (valibot, zod,
 * ArkType, ...) when one is given.
 *
 * - `encode` is `JSON.stringify`, then UTF-8. A value JSON cannot hold
 *   (`undefined`, a function, a `BigInt`, a cycle) throws `invalid_input`.
 *   It does not validate: a value the schema rejects is written as it is.
 * - `decode` reads UTF-8 (strictly), parses, then validates; bytes that are
 *   not UTF-8 or not JSON, and values the schema rejects, throw
 *   `invalid_input`. For a rejected value the message names the type and
 *   each bad field's dot path (`invalid Order: items.0.sku, quantity`), and
 *   `fields` maps each path to `is required` or `is invalid`; neither quotes
 *   the value, and the schema's issues are not kept (they may hold it).
 * - The schema must validate synchronously: one whose `validate` returns a
 *   promise throws a `permanent` error when used. A schema that throws (a
 *   recursive schema overflowing the stack on a deep value, a throwing
 *   transform) gives `invalid_input` with its error as the `cause`; so does
 *   a promise for a value nested over 256 deep, which is how zod reports a
 *   synchronous run that overflowed.
 *
 * Round trips need the schema to accept the JSON form of its own output: a
 * schema that transforms a string into a `Date` reads back the string
 * `JSON.stringify` writes only if it accepts strings.
 *
 * @example Usage
 * ```ts
 * import * as v from "valibot";
 * import { CqiError } from "@cqi/errors";
 * import { json } from "@cqi/codec";
 *
 * const Order = v.object({ sku: v.string(), quantity: v.number() });
 * const codec = json(Order, { name: "Order" });
 *
 * const bytes = codec.encode({ sku: "BTC", quantity: 2 });
 * console.log(codec.decode(bytes).quantity); // 2
 * try {
 *   codec.decode(new TextEncoder().encode('{"quantity":"two"}'));
 * } catch (error) {
 *   if (!(error instanceof CqiError)) throw error;
 *   console.log(error.kind, error.message); // "invalid_input" "invalid Order: sku, quantity"
 *   console.log(error.fields); // { sku: "is required", quantity: "is invalid" }
 * }
 * ```
 *
 * @typeParam T What `decode` returns: the schema's output, or `unknown`.
 * @param schema Any synchronous Standard Schema v1; without one, any JSON.
 * @param options The type name.
 * @returns The codec.
 * @throws {TypeError} When `schema` is not a Standard Schema.
 */
export function json<T = unknown>(
  schema?: StandardSchemaV1<unknown, T>,
  options: JsonOptions = {},
): Codec<T> {
  const validate = schema?.["~standard"]?.validate;
  if (schema !== undefined && typeof validate !== "function") {
    throw new TypeError("json: expected a Standard Schema v1 or nothing");
  }
  const name = options.name ?? "JSON";
  return Object.freeze({
    name,
    contentType: "application/json",
    fresh: true,
    encode(value: T): Uint8Array {
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (cause) {
        throw invalidInput(`invalid ${name}: cannot be written as JSON`, {
          cause,
        });
      }
      if (text === undefined) {
        throw invalidInput(
          `invalid ${name}: ${describe(value)} cannot be written as JSON`,
        );
      }
      return encoder.encode(text);
    },
    decode(bytes: Uint8Array): T {
      let text: string;
      try {
        text = decoder.decode(bytes);
      } catch (cause) {
        assertBytes(name, bytes);
        throw invalidInput(`invalid ${name}: not valid UTF-8`, { cause });
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (cause) {
        throw invalidInput(`invalid ${name}: not valid JSON`, { cause });
      }
      if (validate === undefined) return value as T;
      let result:
        | StandardSchemaV1.Result<T>
        | Promise<StandardSchemaV1.Result<T>>;
      try {
        result = validate(value);
      } catch (cause) {
        const what = isStackOverflow(cause)
          ? "nested too deeply"
          : "the schema failed";
        throw invalidInput(`invalid ${name}: ${what}`, { cause });
      }
      if (result instanceof Promise) {
        result.catch(() => {}); // nobody awaits it
        // zod answers with a promise when its synchronous run threw, as it
        // does when a deep value overflows the stack: that is the input's
        // fault; any other promise is the schema's.
        if (deeperThan(value, MAX_SYNC_DEPTH)) {
          throw invalidInput(`invalid ${name}: nested too deeply`);
        }
        throw permanent(
          `json codec ${name}: the schema validates asynchronously, ` +
            "which a synchronous decode cannot wait for; use a synchronous schema",
        );
      }
      if (result.issues === undefined) return result.value;
      throw schemaError(name, result.issues, value);
    },
  });
}

function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

/** Whether a parsed JSON value nests arrays or objects deeper than `limit`. */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== "object" || item === null) continue;
    if (depth === limit) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}
