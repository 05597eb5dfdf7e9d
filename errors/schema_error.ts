import type { CqiError } from "./error.ts";
import { invalidInput } from "./constructors.ts";
import type { StandardSchemaV1 } from "./standard_schema.ts";

/** At most this many fields are listed, each path and message cut to 200. */
const MAX_FIELDS = 20;
const MAX_TEXT = 200;

/**
 * Options of {@linkcode schemaError}.
 *
 * @example Usage
 * ```ts
 * import type { SchemaErrorOptions } from "@cqi/errors";
 *
 * const options: SchemaErrorOptions = { root: "(body)", messages: true };
 * ```
 */
export interface SchemaErrorOptions {
  /** The path shown for the value itself. Default `(value)`. */
  root?: string;
  /**
   * Whether each field gets the schema's message (with any string or number
   * the value holds there cut out) rather than `is invalid`. Default false.
   */
  messages?: boolean;
}

/**
 * The `invalid_input` error for a value a Standard Schema rejected, as
 * `readJson` and `@cqi/codec`'s `json` report it: `invalid <subject>:` and
 * the dot path of each bad field (at most 20), and `fields` mapping each path
 * to `is required` when its key is absent, else the schema's message or
 * `is invalid`. Never the value itself.
 *
 * @example Usage
 * ```ts
 * import * as v from "valibot";
 * import { schemaError } from "@cqi/errors";
 *
 * const Order = v.object({ id: v.string(), qty: v.number() });
 * const value = { qty: "ten" };
 * const result = await Order["~standard"].validate(value);
 * const error = schemaError("order", result.issues ?? [], value);
 * console.log(error.message); // "invalid order: id, qty"
 * console.log(error.fields); // { id: "is required", qty: "is invalid" }
 * ```
 *
 * @param subject What was being read, such as `request body`.
 * @param issues The schema's issues.
 * @param value The value the schema was given.
 * @param options The root's path, and whether to show the schema's messages.
 * @returns The error.
 */
export function schemaError(
  subject: string,
  issues: ReadonlyArray<StandardSchemaV1.Issue>,
  value: unknown,
  options: SchemaErrorOptions = {},
): CqiError {
  const root = options.root ?? "(value)";
  const fields = new Map<string, string>();
  let more = 0;
  for (const issue of issues) {
    const keys = (issue.path ?? []).map((segment) =>
      typeof segment === "object" && segment !== null ? segment.key : segment
    );
    const path = keys.length === 0
      ? root
      : cut(keys.map((key) => String(key)).join("."));
    if (fields.has(path)) continue;
    if (fields.size === MAX_FIELDS) {
      more++;
      continue;
    }
    const at = locate(value, keys);
    fields.set(
      path,
      at.missing
        ? "is required"
        : options.messages
        ? cut(redact(String(issue.message), at.value))
        : "is invalid",
    );
  }
  const what = fields.size === 1 && fields.has(root)
    ? options.messages ? fields.get(root)! : "does not match the schema"
    : [...fields.keys()].join(", ") + (more > 0 ? ` and ${more} more` : "");
  return invalidInput(`invalid ${subject}: ${what}`, {
    fields: Object.fromEntries(fields),
  });
}

/** The value at `keys`, or whether its key is absent. */
function locate(
  value: unknown,
  keys: PropertyKey[],
): { value?: unknown; missing?: boolean } {
  for (const key of keys) {
    if (typeof value !== "object" || value === null) return {};
    if (!Object.hasOwn(value, key)) return { missing: true };
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return { value };
}

/** Cuts a quoted string or a number the client sent out of a message. */
function redact(message: string, value: unknown): string {
  if (typeof value === "string" && value !== "") {
    for (const quoted of new Set([JSON.stringify(value), `"${value}"`])) {
      message = message.replaceAll(quoted, '"…"');
    }
  } else if (typeof value === "number") {
    const token = new RegExp(
      `(?<![\\w.+-])${String(value).replace(/[.+]/g, "\\$&")}(?![\\w.])`,
      "g",
    );
    message = message.replace(token, "…");
  }
  return message;
}

function cut(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}
