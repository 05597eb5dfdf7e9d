// Merging the sources into one Raw tree keyed like the schema: the config
// file's keys mapped to fields (snake_case or the field name, plus the
// spec's `service_name` and `logging`; unknown keys become warnings), then
// each field's environment value over it. Not exported from mod.ts.
import { type EnvLayer, lookup } from "./env.ts";
import type { ConfigProblem } from "./error.ts";
import { entriesOf, type Field, snakeCase } from "./fields.ts";
import type { Raw } from "./raw.ts";
import { unknownMessage } from "./suggest.ts";
import type { Shape } from "./valibot_adapter.ts";

/** Rewrites `node`'s keys (and those below it) to the schema's. */
export function toSchemaKeys(
  shape: Shape,
  node: Raw,
  path: string[],
  warnings: ConfigProblem[],
): Raw {
  const { value } = node;
  if (Array.isArray(value)) {
    if (shape.kind !== "list") return node;
    const items = value.map((child, i) =>
      toSchemaKeys(shape.item!, child, [...path, String(i)], warnings)
    );
    return { ...node, value: items };
  }
  if (!(value instanceof Map)) return node;
  const entries = new Map<string, Raw>();
  if (shape.kind === "record") {
    for (const [key, child] of value) {
      entries.set(
        key,
        toSchemaKeys(shape.item!, child, [...path, key], warnings),
      );
    }
    return { ...node, value: entries };
  }
  const fields = entriesOf(shape);
  if (fields === undefined) return node;
  const byFileKey = new Map<string, string>();
  for (const name of Object.keys(fields)) {
    byFileKey.set(snakeCase(name), name).set(name, name);
  }
  for (const [key, child] of value) {
    const name = byFileKey.get(key);
    if (name === undefined) {
      warnings.push({
        path: [...path, key].join("."),
        message: unknownMessage(
          "key in the config file",
          key,
          Object.keys(fields).map(snakeCase),
        ),
        source: child.source,
      });
      continue;
    }
    entries.set(
      name,
      toSchemaKeys(fields[name], child, [...path, name], warnings),
    );
  }
  return { ...node, value: entries };
}

/**
 * The config file's top level keyed like the schema: `logging:` read as
 * `log:` and `service_name:` as `service.name` when the schema has those
 * fields and not the alias itself.
 */
export function fileToSchemaKeys(
  root: Shape,
  file: Raw,
  warnings: ConfigProblem[],
): Raw {
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
      entries.set("service", {
        value: new Map([["name", name]]),
        source: name.source,
      });
    } else if (service.value instanceof Map && !service.value.has("name")) {
      const merged = new Map(service.value).set("name", name);
      entries.set("service", { value: merged, source: service.source });
    } else {
      warnings.push({
        path: "service_name",
        message: "service.name is also given; service_name is ignored",
        source: name.source,
      });
    }
  }
  return toSchemaKeys(root, { ...file, value: entries }, [], warnings);
}

/**
 * Sets each field whose environment key is set onto `root`, over what the
 * file gave, creating the sections on the way. A key that cannot be read
 * is a problem, and the field is then unset.
 */
export async function mergeEnv(
  root: Raw,
  fields: readonly Field[],
  layers: readonly EnvLayer[],
  problems: ConfigProblem[],
): Promise<void> {
  for (const field of fields) {
    const found = await lookup(layers, field.envKey);
    if (found === undefined) continue;
    if (found.problem !== undefined) {
      problems.push({
        path: field.path.join("."),
        message: found.problem,
        source: found.source,
      });
    }
    let section = root;
    for (const key of field.path.slice(0, -1)) {
      let next = (section.value as Map<string, Raw>).get(key);
      if (!(next?.value instanceof Map)) {
        next = { value: new Map(), source: found.source };
        (section.value as Map<string, Raw>).set(key, next);
      }
      section = next;
    }
    (section.value as Map<string, Raw>).set(field.path.at(-1)!, {
      value: found.value,
      source: found.source,
    });
  }
}
