// Maps a config file's keys to the schema's: snake_case (`max_connections`)
// or the field name itself (`maxConnections`), plus the spec's spellings
// `service_name` (for `service.name`) and `logging` (for `log`). Unknown
// keys become warnings. Not exported from mod.ts.
import type { ConfigProblem } from "./error.ts";
import {
  entriesOf,
  itemOf,
  type SchemaNode,
  snakeCase,
  unwrap,
} from "./introspect.ts";
import { RawList, RawMap, type RawNode } from "./raw.ts";
import { unknownMessage } from "./suggest.ts";

/** Rewrites `root` (file keys) to schema keys, collecting warnings. */
export function normalise(
  schema: SchemaNode,
  root: RawMap,
  warnings: ConfigProblem[],
): RawMap {
  const aliased = applyAliases(schema, root, warnings);
  return mapNode(schema, aliased, [], warnings) as RawMap;
}

/** Rewrites one node (and what is below it) to schema keys. */
export function mapNode(
  schema: SchemaNode,
  node: RawNode,
  path: string[],
  warnings: ConfigProblem[],
): RawNode {
  if (node instanceof RawList) {
    const item = itemOf(schema);
    if (item === undefined) return node;
    return new RawList(
      node.items.map((child, i) =>
        mapNode(item, child, [...path, String(i)], warnings)
      ),
      node.source,
    );
  }
  if (!(node instanceof RawMap)) return node;
  const base = unwrap(schema).base;
  if (base.type === "record" && base.value !== undefined) {
    const entries = new Map<string, RawNode>();
    for (const [key, child] of node.entries) {
      entries.set(key, mapNode(base.value, child, [...path, key], warnings));
    }
    return new RawMap(entries, node.source);
  }
  const fields = entriesOf(schema);
  if (fields === undefined) return node;
  const byFileKey = new Map<string, string>();
  for (const name of Object.keys(fields)) {
    byFileKey.set(snakeCase(name), name);
    byFileKey.set(name, name);
  }
  const entries = new Map<string, RawNode>();
  for (const [key, child] of node.entries) {
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
    entries.set(name, mapNode(fields[name], child, [...path, name], warnings));
  }
  return new RawMap(entries, node.source);
}

// `logging:` → `log:`, and `service_name:` → `service: { name: }`, when the
// schema has those fields and not the alias itself.
function applyAliases(
  schema: SchemaNode,
  root: RawMap,
  warnings: ConfigProblem[],
): RawMap {
  const fields = entriesOf(schema) ?? {};
  const entries = new Map(root.entries);
  const logging = entries.get("logging");
  if (logging !== undefined && "log" in fields && !("logging" in fields)) {
    entries.delete("logging");
    if (entries.has("log")) {
      warnings.push({
        path: "logging",
        message: "both logging and log are given; logging is ignored",
        source: logging.source,
      });
    } else {
      entries.set("log", logging);
    }
  }
  const name = entries.get("service_name");
  const service = entries.get("service");
  if (
    name !== undefined && "service" in fields && !("serviceName" in fields)
  ) {
    entries.delete("service_name");
    if (service === undefined) {
      entries.set(
        "service",
        new RawMap(new Map([["name", name]]), name.source),
      );
    } else if (service instanceof RawMap && !service.entries.has("name")) {
      const merged = new Map(service.entries);
      merged.set("name", name);
      entries.set("service", new RawMap(merged, service.source));
    } else {
      warnings.push({
        path: "service_name",
        message: "service.name is also given; service_name is ignored",
        source: name.source,
      });
    }
  }
  return new RawMap(entries, root.source);
}
