// Turns the merged raw tree into plain values for validation, coercing each
// string to what the schema expects there: numbers, booleans, lists (comma
// separated, or a JSON array), enum values in any letter case, and JSON
// objects where a mapping is expected. Records where each value came from.
// Not exported from mod.ts.
import type { ConfigProblem, ConfigSource } from "./error.ts";
import { entriesOf, itemOf, type SchemaNode, unwrap } from "./introspect.ts";
import { mapNode } from "./normalise.ts";
import { RawList, RawMap, type RawNode, RawScalar } from "./raw.ts";

/** The merged values, their sources by dotted path, and problems found. */
export interface Materialised {
  /** Plain values, ready for the schema. */
  value: Record<string, unknown>;
  /** Where each value (and each mapping) came from, by dotted path. */
  sources: Map<string, ConfigSource>;
  /** Unresolved `${VAR}`s and unparsable JSON. */
  problems: ConfigProblem[];
}

/** Materialises `root` against `schema`. */
export function materialise(
  schema: SchemaNode,
  root: RawMap,
  warnings: ConfigProblem[],
): Materialised {
  const sources = new Map<string, ConfigSource>();
  const problems: ConfigProblem[] = [];
  const walk = (
    node: RawNode,
    target: SchemaNode | undefined,
    path: string[],
  ): unknown => {
    const key = path.join(".");
    sources.set(key, node.source);
    if (node instanceof RawMap) {
      const fields = target === undefined ? undefined : entriesOf(target);
      const base = target === undefined ? undefined : unwrap(target).base;
      const out: Record<string, unknown> = {};
      for (const [name, child] of node.entries) {
        const childSchema = base?.type === "record"
          ? base.value
          : fields?.[name];
        out[name] = walk(child, childSchema, [...path, name]);
      }
      return out;
    }
    if (node instanceof RawList) {
      const item = target === undefined ? undefined : itemOf(target);
      return node.items.map((child, i) =>
        walk(child, item, [...path, String(i)])
      );
    }
    if (node.problem !== undefined) {
      problems.push({ path: key, message: node.problem, source: node.source });
      return undefined;
    }
    // An empty value counts as unset, as in the environment.
    if (node.value === null || node.value === undefined || node.value === "") {
      return undefined;
    }
    if (target === undefined) return node.value;
    const structured = structuredInput(target, node, path, problems, warnings);
    if (structured !== undefined) return walk(structured, target, path);
    return coerce(target, node.value);
  };
  const value = walk(root, schema, []) as Record<string, unknown>;
  return { value, sources, problems };
}

// Where a list or a mapping is expected, a string can hold one: JSON
// (`[...]`, `{...}`), or for lists comma-separated items.
function structuredInput(
  target: SchemaNode,
  node: RawScalar,
  path: string[],
  problems: ConfigProblem[],
  warnings: ConfigProblem[],
): RawNode | undefined {
  const base = unwrap(target).base;
  const wantsList = base.type === "array";
  const wantsMap = !wantsList && entriesOf(target) !== undefined &&
    !hasStringOption(base);
  if (!wantsList && !wantsMap) return undefined;
  const text = (node.value ?? "").trim();
  if (text.startsWith("[") || text.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      problems.push({
        path: path.join("."),
        message: "expected valid JSON",
        source: node.source,
      });
      return new RawScalar(null, node.source);
    }
    return mapNode(target, toRaw(parsed, node.source), path, warnings);
  }
  if (!wantsList) return undefined;
  const items = text.split(",").map((item) => item.trim()).filter((item) =>
    item !== ""
  );
  return new RawList(
    items.map((item) => new RawScalar(item, node.source)),
    node.source,
  );
}

function toRaw(value: unknown, source: ConfigSource): RawNode {
  if (Array.isArray(value)) {
    return new RawList(value.map((item) => toRaw(item, source)), source);
  }
  if (value !== null && typeof value === "object") {
    const entries = new Map<string, RawNode>();
    for (const [key, item] of Object.entries(value)) {
      entries.set(key, toRaw(item, source));
    }
    return new RawMap(entries, source);
  }
  return new RawScalar(value === null ? null : String(value), source);
}

function hasStringOption(base: SchemaNode): boolean {
  if (base.type === "string" || base.type === "picklist") return true;
  if (base.type !== "union") return false;
  return (base.options as SchemaNode[]).some((option) =>
    hasStringOption(unwrap(option).base)
  );
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRUE = new Set(["true", "yes", "on", "1"]);
const FALSE = new Set(["false", "no", "off", "0"]);

/** Converts `text` to what `schema` expects, or leaves it for validation to reject. */
export function coerce(schema: SchemaNode, text: string): unknown {
  const base = unwrap(schema).base;
  switch (base.type) {
    case "number":
      return NUMBER.test(text.trim()) ? Number(text) : text;
    case "boolean": {
      const lower = text.trim().toLowerCase();
      if (TRUE.has(lower)) return true;
      if (FALSE.has(lower)) return false;
      return text;
    }
    case "picklist":
    case "enum": {
      const options = (base.options ?? []) as unknown[];
      if (options.includes(text)) return text;
      const lower = text.trim().toLowerCase();
      return options.find((o) => String(o).toLowerCase() === lower) ?? text;
    }
    case "literal":
      return String(base.literal) === text.trim() ? base.literal : text;
    case "union":
    case "variant": {
      if (hasStringOption(base)) return text;
      for (const option of (base.options ?? []) as SchemaNode[]) {
        const coerced = coerce(option, text);
        if (coerced !== text) return coerced;
      }
      return text;
    }
    default:
      return text;
  }
}
