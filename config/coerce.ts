// The merged Raw tree turned into plain values for validation, each text
// converted to what the schema expects there: numbers, booleans, enum
// values in any letter case, and lists (comma separated, or a JSON array)
// or mappings (JSON objects) where those are expected. Records where each
// value came from. Not exported from mod.ts.
import type { ConfigProblem, ConfigSource } from "./error.ts";
import { entriesOf, fieldOf } from "./fields.ts";
import { toSchemaKeys } from "./merge.ts";
import type { Raw } from "./raw.ts";
import type { Shape } from "./valibot_adapter.ts";

/** Plain values, and where each value (and each mapping) came from by dotted path. */
export interface Coerced {
  /** Ready for the schema. */
  value: unknown;
  /** Sources by dotted path. */
  sources: Map<string, ConfigSource>;
}

/** Coerces `root` to `shape`; unresolved values and bad JSON are problems. */
export function coerceTree(
  shape: Shape,
  root: Raw,
  problems: ConfigProblem[],
  warnings: ConfigProblem[],
): Coerced {
  const sources = new Map<string, ConfigSource>();
  const walk = (
    node: Raw,
    target: Shape | undefined,
    path: string[],
  ): unknown => {
    sources.set(path.join("."), node.source);
    const { value } = node;
    if (value instanceof Map) {
      return Object.fromEntries(
        [...value].map(([name, child]) => [
          name,
          walk(
            child,
            target?.kind === "record" ? target.item : fieldOf(target, name),
            [...path, name],
          ),
        ]),
      );
    }
    if (Array.isArray(value)) {
      const item = target?.kind === "list" ? target.item : undefined;
      return value.map((child, i) => walk(child, item, [...path, String(i)]));
    }
    if (node.problem !== undefined) {
      problems.push({
        path: path.join("."),
        message: node.problem,
        source: node.source,
      });
      return undefined;
    }
    // An empty value counts as unset, as in the environment.
    if (value === null || value === "") return undefined;
    if (target === undefined) return value;
    const structured = structure(target, node as Raw & { value: string }, path);
    return structured === undefined
      ? coerce(target, value)
      : walk(structured, target, path);
  };

  // Where a list or a mapping is expected, a text can hold one: JSON
  // (`[...]`, `{...}`), or for lists comma-separated items.
  const structure = (
    target: Shape,
    node: Raw & { value: string },
    path: string[],
  ): Raw | undefined => {
    const wantsList = target.kind === "list";
    if (!wantsList && (!entriesOf(target) || hasStringOption(target))) {
      return undefined;
    }
    const text = node.value.trim();
    if (text.startsWith("[") || text.startsWith("{")) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        const message = "expected valid JSON";
        problems.push({ path: path.join("."), message, source: node.source });
        return { value: null, source: node.source };
      }
      return toSchemaKeys(target, toRaw(parsed, node.source), path, warnings);
    }
    if (!wantsList) return undefined;
    const items = text.split(",").map((item) => item.trim());
    return {
      value: items.filter((item) => item !== "").map((item) => ({
        value: item,
        source: node.source,
      })),
      source: node.source,
    };
  };
  return { value: walk(root, shape, []), sources };
}

function toRaw(value: unknown, source: ConfigSource): Raw {
  if (Array.isArray(value)) {
    return { value: value.map((item) => toRaw(item, source)), source };
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([key, item]) =>
      [key, toRaw(item, source)] as const
    );
    return { value: new Map(entries), source };
  }
  return { value: value === null ? null : String(value), source };
}

function hasStringOption(shape: Shape): boolean {
  return shape.kind === "string" || shape.kind === "picklist" ||
    (shape.kind === "union" && shape.options!.some(hasStringOption));
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRUE = new Set(["true", "yes", "on", "1"]);
const FALSE = new Set(["false", "no", "off", "0"]);

/** Converts `text` to what `shape` expects, or leaves it for validation to reject. */
export function coerce(shape: Shape, text: string): unknown {
  const lower = text.trim().toLowerCase();
  switch (shape.kind) {
    case "number":
      return NUMBER.test(text.trim()) ? Number(text) : text;
    case "boolean":
      return TRUE.has(lower) ? true : FALSE.has(lower) ? false : text;
    case "picklist":
    case "enum":
      if (shape.values!.includes(text)) return text;
      return shape.values!.find((o) => String(o).toLowerCase() === lower) ??
        text;
    case "literal":
      return String(shape.values![0]) === text.trim() ? shape.values![0] : text;
    case "union":
      if (hasStringOption(shape)) return text;
      for (const option of shape.options!) {
        const coerced = coerce(option, text);
        if (coerced !== text) return coerced;
      }
      return text;
    default:
      return text;
  }
}
