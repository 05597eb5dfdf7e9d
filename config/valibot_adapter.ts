// The one file that knows valibot's objects: it reads a schema's `type`,
// `wrapped`, `default`, `pipe`, `entries`, `item`, `options`, ... once into
// a Shape, and runs the schema, turning its issues into plain Issues. The
// rest of the loader sees only Shapes and Issues. Only ConfigSchema is
// exported from mod.ts.
import * as v from "valibot";

/**
 * A valibot schema whose output is `T`: what {@linkcode loadConfig} takes
 * and what the section schemas in {@linkcode cqiSections} are. Any
 * synchronous valibot schema fits (`v.object(...)`, `v.optional(...)`, a
 * pipe). The type spells out the parts of valibot's `BaseSchema` that make
 * one, so that this module's public API is complete without valibot's type
 * declarations.
 *
 * @example Usage
 * ```ts
 * import * as v from "valibot";
 * import type { ConfigSchema } from "@cqi/config";
 *
 * const limits: ConfigSchema<{ maxOrders: number }> = v.object({
 *   maxOrders: v.optional(v.number(), 100),
 * });
 * ```
 *
 * @typeParam T The validated output.
 */
export interface ConfigSchema<T = unknown> {
  /** Always `"schema"`. */
  readonly kind: "schema";
  /** The schema type, such as `object`, `optional` or `string`. */
  readonly type: string;
  /** What the schema expects, for messages. */
  readonly expects: string;
  /** Config schemas are synchronous. */
  readonly async: false;
  /** The valibot function that built the schema. */
  // deno-lint-ignore no-explicit-any
  readonly reference: (...args: any[]) => any;
  /** Runs the schema (valibot internal). */
  // deno-lint-ignore no-explicit-any
  readonly "~run": (dataset: any, config: any) => any;
  /** The Standard Schema interface. */
  readonly "~standard": {
    /** The Standard Schema version. */
    readonly version: 1;
    /** The library: valibot. */
    readonly vendor: "valibot";
    /** Validates a value. */
    // deno-lint-ignore no-explicit-any
    readonly validate: (value: unknown) => any;
    /** The input and output types, for inference only. */
    readonly types?:
      | { readonly input: unknown; readonly output: T }
      | undefined;
  };
  /** The input, output and issue types, for inference only. */
  readonly "~types"?: {
    /** The accepted input. */
    readonly input: unknown;
    /** The validated output. */
    readonly output: T;
    /** The issues it reports. */
    // deno-lint-ignore no-explicit-any
    readonly issue: any;
  } | undefined;
}

/** What the loader knows of a schema, its wrappers (optional, pipes, ...) folded in. */
export interface Shape {
  /** The values it takes. A variant is a `union`; `other` is anything not coerced. */
  kind:
    | "object"
    | "record"
    | "list"
    | "union"
    | "number"
    | "boolean"
    | "string"
    | "picklist"
    | "enum"
    | "literal"
    | "other";
  /** As documented: `integer`, `duration`, `secret`, `"a" | "b"`, `list of string`, ... */
  label: string;
  /** `object`: the fields. */
  entries?: Readonly<Record<string, Shape>>;
  /** `list`: the item; `record`: the value. */
  item?: Shape;
  /** `union`: the options. */
  options?: readonly Shape[];
  /** `picklist`, `enum`, `literal`: the values accepted. */
  values?: readonly unknown[];
  /** Whether it may be missing. */
  optional: boolean;
  /** Whether a default fills it in when missing. */
  hasDefault: boolean;
  /** The default, as file input (such as `"30s"`). */
  default?: unknown;
  /** The first `v.description(...)`. */
  description?: string;
  /** Whether it is marked secret (`v.metadata({ secret: true })`). */
  secret: boolean;
}

// The parts of a valibot schema or pipe action read here.
interface Node {
  type: string;
  pipe?: Node[];
  wrapped?: Node;
  default?: unknown;
  entries?: Record<string, Node>;
  item?: Node;
  value?: Node;
  options?: unknown[];
  literal?: unknown;
  description?: string;
  metadata?: Record<string, unknown>;
}

const WRAPPERS = new Set([
  "optional",
  "exact_optional",
  "nullable",
  "nullish",
  "undefinedable",
  "non_optional",
  "non_nullable",
  "non_nullish",
]);
const OBJECTS = new Set([
  "object",
  "loose_object",
  "strict_object",
  "object_with_rest",
]);

// The pipe items of a schema, those of nested pipes first.
function pipeItems(node: Node): Node[] {
  if (node.pipe === undefined) return [];
  return [...pipeItems(node.pipe[0]), ...node.pipe.slice(1)];
}

/** Describes `schema` and everything in it, in one walk. */
export function describe(schema: ConfigSchema): Shape {
  let node = schema as unknown as Node;
  const shape: Shape = {
    kind: "other",
    label: "",
    optional: false,
    hasDefault: false,
    secret: false,
  };
  const metadata: Record<string, unknown> = {};
  let integer = false;
  for (;;) {
    for (const item of pipeItems(node)) {
      if (item.type === "description") shape.description ??= item.description;
      if (item.type === "metadata") Object.assign(metadata, item.metadata);
      if (item.type === "integer") integer = true;
    }
    if (!WRAPPERS.has(node.type) || node.wrapped === undefined) break;
    if (!node.type.startsWith("non_")) shape.optional = true;
    if (
      !shape.hasDefault && node.default !== undefined &&
      typeof node.default !== "function"
    ) {
      shape.hasDefault = true;
      shape.default = node.default;
    }
    node = node.wrapped;
  }
  shape.secret = metadata.secret === true;
  const inner = (child: Node) => describe(child as unknown as ConfigSchema);
  let label = node.type;
  if (OBJECTS.has(node.type)) {
    shape.kind = "object";
    shape.entries = Object.fromEntries(
      Object.entries(node.entries ?? {}).map(([k, child]) => [k, inner(child)]),
    );
    if (node.type === "object") label = "mapping";
  } else if (node.type === "array" || node.type === "record") {
    shape.kind = node.type === "array" ? "list" : "record";
    shape.item = inner((node.type === "array" ? node.item : node.value)!);
    if (node.type === "array") label = `list of ${shape.item.label}`;
  } else if (node.type === "union" || node.type === "variant") {
    shape.kind = "union";
    shape.options = (node.options as Node[]).map(inner);
    if (node.type === "union") {
      label = shape.options.map((o) => o.label).join(" or ");
    }
  } else if (["number", "boolean", "string"].includes(node.type)) {
    shape.kind = node.type as Shape["kind"];
    if (integer && node.type === "number") label = "integer";
  } else if (node.type === "picklist" || node.type === "enum") {
    shape.kind = node.type;
    shape.values = node.options ?? [];
    if (node.type === "picklist") {
      label = shape.values.map((o) => JSON.stringify(o)).join(" | ");
    }
  } else if (node.type === "literal") {
    shape.kind = "literal";
    shape.values = [node.literal];
  }
  if (metadata.format === "duration") shape.label = "duration";
  else if (!shape.secret) shape.label = label;
  else shape.label = node.type === "string" ? "secret" : `${label} (secret)`;
  return shape;
}

/** A validation failure, in the loader's terms. */
export interface Issue {
  /** Schema keys from the root; list items by index. */
  path: (string | number)[];
  /** What was expected (or the schema's own message). */
  message: string;
  /** Whether the value is missing (`undefined`). */
  missing: boolean;
  /** What was found, such as `"http"` or `99999`; absent for a whole mapping. */
  received?: string;
}

// A union (an API key given as a string or a record) that fails on a record
// reports the record's own issues, with full paths, instead of "expected a
// or b".
function expand(issue: v.BaseIssue<unknown>): v.BaseIssue<unknown>[] {
  const input = issue.input;
  if (issue.type !== "union" || typeof input !== "object" || input === null) {
    return [issue];
  }
  const nested = (issue.issues ?? []).filter((sub) => sub.path?.length);
  if (nested.length === 0) return [issue];
  return nested.flatMap((sub) =>
    expand({ ...sub, path: [...(issue.path ?? []), ...sub.path!] as never })
  );
}

/** Runs `schema` on `value`: its output, or every issue. */
export function validate<T>(
  schema: ConfigSchema<T>,
  value: unknown,
): { ok: true; value: T } | { ok: false; issues: Issue[] } {
  const result = v.safeParse(
    schema as unknown as v.GenericSchema<unknown, T>,
    value,
    { abortEarly: false },
  );
  if (result.success) return { ok: true, value: result.output };
  return {
    ok: false,
    issues: result.issues.flatMap(expand).map((issue) => {
      const out: Issue = {
        path: (issue.path ?? []).map((item) =>
          typeof item.key === "number" ? item.key : String(item.key)
        ),
        message: issue.message.startsWith("Invalid ")
          ? `expected ${issue.expected}`
          : issue.message,
        missing: issue.input === undefined,
      };
      // A cross-field check failing on a mapping has nothing useful to show.
      if (issue.kind === "schema" || typeof issue.input !== "object") {
        out.received = issue.received;
      }
      return out;
    }),
  };
}
