// Reading valibot schemas as data: wrappers, defaults, metadata, entries.
// The loader walks the schema with these to map file keys and environment
// keys to fields, to coerce strings, and to find secrets. Not exported from
// mod.ts.

/** The parts of a valibot schema (or action) the walkers read. */
export interface SchemaNode {
  kind: string;
  type: string;
  pipe?: SchemaNode[];
  wrapped?: SchemaNode;
  default?: unknown;
  entries?: Record<string, SchemaNode>;
  item?: SchemaNode;
  options?: unknown[];
  value?: SchemaNode;
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

/** A schema with its wrappers (optional, nullable, ...) taken off. */
export interface Unwrapped {
  /** The innermost schema: `object`, `string`, `array`, ... */
  base: SchemaNode;
  /** Whether the value may be missing. */
  optional: boolean;
  /** Whether a default fills it in when missing. */
  hasDefault: boolean;
  /** The default, as file input (such as `"30s"`). */
  default?: unknown;
  /** The first `v.description(...)` found. */
  description?: string;
  /** Every `v.metadata(...)` found, merged. */
  metadata: Record<string, unknown>;
  /** Every pipe item (actions) found, outermost first. */
  actions: SchemaNode[];
}

/** The pipe items of a schema, including those of nested pipes. */
function pipeItems(schema: SchemaNode): SchemaNode[] {
  if (schema.pipe === undefined) return [];
  return [...pipeItems(schema.pipe[0]), ...schema.pipe.slice(1)];
}

/** Takes the wrappers off `schema`, collecting defaults and metadata. */
export function unwrap(schema: SchemaNode): Unwrapped {
  const result: Unwrapped = {
    base: schema,
    optional: false,
    hasDefault: false,
    metadata: {},
    actions: [],
  };
  let current = schema;
  for (;;) {
    const items = pipeItems(current);
    result.actions.push(...items);
    for (const item of items) {
      if (item.type === "description") result.description ??= item.description;
      if (item.type === "metadata") {
        Object.assign(result.metadata, item.metadata);
      }
    }
    if (!WRAPPERS.has(current.type) || current.wrapped === undefined) break;
    if (
      current.type !== "non_optional" && current.type !== "non_nullish" &&
      current.type !== "non_nullable"
    ) {
      result.optional = true;
    }
    if (
      !result.hasDefault && current.default !== undefined &&
      typeof current.default !== "function"
    ) {
      result.hasDefault = true;
      result.default = current.default;
    }
    current = current.wrapped;
  }
  result.base = current;
  return result;
}

/** The entries of an object schema (after unwrapping), else `undefined`. */
export function entriesOf(
  schema: SchemaNode,
): Record<string, SchemaNode> | undefined {
  const base = unwrap(schema).base;
  if (OBJECTS.has(base.type)) return base.entries;
  if (base.type === "union" || base.type === "variant") {
    for (const option of (base.options ?? []) as SchemaNode[]) {
      const entries = entriesOf(option);
      if (entries !== undefined) return entries;
    }
  }
  return undefined;
}

/** The item schema of an array schema (after unwrapping), else `undefined`. */
export function itemOf(schema: SchemaNode): SchemaNode | undefined {
  const base = unwrap(schema).base;
  return base.type === "array" ? base.item : undefined;
}

/** Whether `schema` is marked secret (see `secret()`). */
export function isSecretSchema(schema: SchemaNode): boolean {
  return unwrap(schema).metadata.secret === true;
}

/** Whether `schema` is a duration (see `duration()`). */
export function isDurationSchema(schema: SchemaNode): boolean {
  return unwrap(schema).metadata.format === "duration";
}

/**
 * Whether the field at `path` (schema keys; array indices as numbers) is
 * secret or inside something secret.
 */
export function isSecretPath(
  schema: SchemaNode,
  path: readonly (string | number)[],
): boolean {
  let current: SchemaNode | undefined = schema;
  for (const key of path) {
    if (current === undefined) return false;
    if (isSecretSchema(current)) return true;
    current = typeof key === "number"
      ? itemOf(current)
      : entriesOf(current)?.[key];
  }
  return current !== undefined && isSecretSchema(current);
}

/** `maxConnections` → `max_connections`. */
export function snakeCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
}

/** The environment key of a field: `CQI` + `database.maxConnections` → `CQI_DATABASE_MAX_CONNECTIONS`. */
export function envKey(prefix: string, path: readonly string[]): string {
  const name = path.map((p) => snakeCase(p).toUpperCase()).join("_");
  return prefix === "" ? name : `${prefix}_${name}`;
}

/** A field with no entries of its own: what one environment key sets. */
export interface Leaf {
  /** Schema keys from the root. */
  path: string[];
  /** The field's schema. */
  schema: SchemaNode;
  /** Whether the field must be set (when its section is present). */
  required: boolean;
}

/** Every leaf of an object schema, depth first in declaration order. */
export function leavesOf(schema: SchemaNode): Leaf[] {
  const out: Leaf[] = [];
  const visit = (node: SchemaNode, path: string[]) => {
    const info = unwrap(node);
    if (!OBJECTS.has(info.base.type)) {
      out.push({ path, schema: node, required: !info.optional });
      return;
    }
    for (const [key, child] of Object.entries(info.base.entries ?? {})) {
      visit(child, [...path, key]);
    }
  };
  const entries = entriesOf(schema);
  for (const [key, child] of Object.entries(entries ?? {})) {
    visit(child, [key]);
  }
  return out;
}
