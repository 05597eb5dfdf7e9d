// The sources merged into plain values for validation, in one walk per
// value: the config file's keys mapped to the schema's (snake_case or the
// field name, plus the spec's `service_name` and `logging`; unknown keys
// are warnings), each text coerced to what the schema expects there (a list
// or a mapping from JSON or a comma-separated text), and each field's
// environment value over the file's. Records where every value came from.
// Not exported from mod.ts.
import { coerce, takesText } from "./coerce.ts";
import type { ConfigProblem, ConfigSource } from "./error.ts";
import { entriesOf, type Field, snakeCase } from "./fields.ts";
import type { Raw } from "./raw.ts";
import { unknownMessage } from "./suggest.ts";
import type { Shape } from "./valibot_adapter.ts";

/** The merged values, and the source of each value and mapping by dotted path. */
export interface Merged {
  /** Plain values, ready for the schema. */
  value: Record<string, unknown>;
  /** Where each came from. */
  sources: Map<string, ConfigSource>;
  /** Unknown keys inside JSON texts, reported after the other warnings. */
  jsonWarnings: ConfigProblem[];
}

/**
 * Merges the environment values (by field) over the config file's `file`;
 * unresolved values and malformed JSON are problems.
 */
export function merge(
  root: Shape,
  file: Raw | undefined,
  env: ReadonlyMap<Field, Raw>,
  problems: ConfigProblem[],
  warnings: ConfigProblem[],
): Merged {
  const sources = new Map<string, ConfigSource>();
  const jsonWarnings: ConfigProblem[] = [];
  let sink = warnings;
  const fromEnv = new Set([...env.keys()].map((f) => f.path.join(".")));
  // `dry`: a file value the environment replaces, only read for its keys.
  const walk = (
    node: Raw,
    shape: Shape | undefined,
    path: string[],
    dry = false,
  ): unknown => {
    const { value } = node;
    if (!dry) sources.set(path.join("."), node.source);
    if (value instanceof Map) return mapping(value, shape, path, dry);
    if (Array.isArray(value)) {
      const item = shape?.kind === "list" ? shape.item : undefined;
      return value.map((child, i) =>
        walk(child, item, [...path, String(i)], dry)
      );
    }
    if (dry) return undefined;
    if (node.problem !== undefined) {
      const { problem: message, source } = node;
      problems.push({ path: path.join("."), message, source });
      return undefined;
    }
    // An empty value counts as unset, as in the environment.
    if (value === null || value === "") return undefined;
    if (shape === undefined) return value;
    const structured = structure(shape, node as Raw & { value: string }, path);
    if (structured === undefined) return coerce(shape, value);
    const outer = sink;
    sink = jsonWarnings;
    const out = walk(structured, shape, path);
    sink = outer;
    return out;
  };

  // A mapping's keys as the schema's: a record's as they are, an object's
  // by their file spelling; values under keys the schema has not described
  // are kept as they are.
  const mapping = (
    entries: Map<string, Raw>,
    shape: Shape | undefined,
    path: string[],
    dry: boolean,
  ): Record<string, unknown> => {
    const fields = shape?.kind === "record" ? undefined : entriesOf(shape);
    const names = new Map<string, string>();
    for (const name of Object.keys(fields ?? {})) {
      names.set(snakeCase(name), name).set(name, name);
    }
    const out: [string, unknown][] = [];
    for (const [key, child] of entries) {
      const name = fields === undefined ? key : names.get(key);
      if (name === undefined) {
        const known = Object.keys(fields!).map(snakeCase);
        sink.push({
          path: [...path, key].join("."),
          message: unknownMessage("key in the config file", key, known),
          source: child.source,
        });
      } else {
        const item = shape?.kind === "record" ? shape.item : fields?.[name];
        const replaced = dry || fromEnv.has([...path, name].join("."));
        const value = walk(child, item, [...path, name], replaced);
        if (!replaced) out.push([name, value]);
      }
    }
    return Object.fromEntries(out);
  };

  // Where a list or a mapping is expected, a text can hold one: JSON
  // (`[...]`, `{...}`), or for lists comma-separated items.
  const structure = (
    shape: Shape,
    node: Raw & { value: string },
    path: string[],
  ): Raw | undefined => {
    const list = shape.kind === "list";
    if (!list && (entriesOf(shape) === undefined || takesText(shape))) {
      return undefined;
    }
    const text = node.value.trim();
    if (text.startsWith("[") || text.startsWith("{")) {
      try {
        return toRaw(JSON.parse(text), node.source);
      } catch {
        const message = "expected valid JSON";
        problems.push({ path: path.join("."), message, source: node.source });
        return { value: null, source: node.source };
      }
    }
    if (!list) return undefined;
    const items = text.split(",").map((item) => item.trim());
    return {
      value: items.filter((item) => item !== "").map((item) => ({
        value: item,
        source: node.source,
      })),
      source: node.source,
    };
  };

  const value = file === undefined
    ? {}
    : mapping(aliased(root, file, warnings), root, [], false);
  for (const [field, raw] of env) {
    const fieldValue = walk(raw, field.shape, field.path);
    let section = value;
    field.path.slice(0, -1).forEach((key, i) => {
      const next = section[key];
      if (typeof next !== "object" || next === null || Array.isArray(next)) {
        section[key] = {};
        sources.set(field.path.slice(0, i + 1).join("."), raw.source);
      }
      section = section[key] as Record<string, unknown>;
    });
    section[field.path.at(-1)!] = fieldValue;
  }
  return { value, sources, jsonWarnings };
}

// The file's top level with `logging:` read as `log:` and `service_name:`
// as `service.name`, when the schema has those fields and not the aliases.
function aliased(
  root: Shape,
  file: Raw,
  warnings: ConfigProblem[],
): Map<string, Raw> {
  const fields = entriesOf(root) ?? {};
  const entries = new Map(file.value as Map<string, Raw>);
  const logging = entries.get("logging");
  if (logging !== undefined && "log" in fields && !("logging" in fields)) {
    entries.delete("logging");
    if (!entries.has("log")) entries.set("log", logging);
    else {
      warnings.push({
        path: "logging",
        message: "both logging and log are given; logging is ignored",
        source: logging.source,
      });
    }
  }
  const name = entries.get("service_name");
  const service = entries.get("service");
  if (name !== undefined && "service" in fields && !("serviceName" in fields)) {
    entries.delete("service_name");
    if (service === undefined) {
      const value = new Map([["name", name]]);
      entries.set("service", { value, source: name.source });
    } else if (service.value instanceof Map && !service.value.has("name")) {
      const value = new Map(service.value).set("name", name);
      entries.set("service", { value, source: service.source });
    } else {
      warnings.push({
        path: "service_name",
        message: "service.name is also given; service_name is ignored",
        source: name.source,
      });
    }
  }
  return entries;
}

// JSON as Raw values; deeper than a config file may be is a problem.
function toRaw(value: unknown, source: ConfigSource, depth = 0): Raw {
  if (depth > 64) return { value: null, source, problem: "nested too deeply" };
  if (Array.isArray(value)) {
    return { value: value.map((v) => toRaw(v, source, depth + 1)), source };
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([key, item]) =>
      [key, toRaw(item, source, depth + 1)] as const
    );
    return { value: new Map(entries), source };
  }
  return { value: value === null ? null : String(value), source };
}
