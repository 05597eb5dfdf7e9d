// The field table: every field a schema reads, with its path, file key,
// environment key and Shape, from one walk of the schema. The loader reads
// sources by it; configFields documents it.
import { cqiSchema } from "./schema.ts";
import { type ConfigSchema, describe, type Shape } from "./valibot_adapter.ts";

/** A field with no fields of its own: what one environment key sets. */
export interface Field {
  /** Schema keys from the root. */
  path: string[];
  /** Dotted snake_case path in a config file: `database.max_connections`. */
  fileKey: string;
  /** `CQI_DATABASE_MAX_CONNECTIONS` (`<KEY>_FILE` works too). */
  envKey: string;
  /** What it takes. */
  shape: Shape;
  /** Whether it must be set (when its section is present). */
  required: boolean;
}

/** `maxConnections` → `max_connections`. */
export function snakeCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
}

/** The fields of an object shape, or of a union's first object option. */
export function entriesOf(
  shape: Shape | undefined,
): Readonly<Record<string, Shape>> | undefined {
  if (shape?.kind === "object") return shape.entries;
  for (const option of shape?.options ?? []) {
    const entries = entriesOf(option);
    if (entries !== undefined) return entries;
  }
  return undefined;
}

/** The shape of field `key` of `shape`, if it has one. */
export function fieldOf(
  shape: Shape | undefined,
  key: string,
): Shape | undefined {
  const entries = entriesOf(shape);
  return entries !== undefined && Object.hasOwn(entries, key)
    ? entries[key]
    : undefined;
}

/** The fields of `root`, depth first in declaration order. */
export function fieldTable(root: Shape, prefix: string): Field[] {
  const out: Field[] = [];
  const visit = (shape: Shape, path: string[]) => {
    if (shape.kind === "object") {
      for (const [key, child] of Object.entries(shape.entries!)) {
        visit(child, [...path, key]);
      }
      return;
    }
    const name = path.map((p) => snakeCase(p).toUpperCase()).join("_");
    out.push({
      path,
      fileKey: path.map(snakeCase).join("."),
      envKey: prefix === "" ? name : `${prefix}_${name}`,
      shape,
      required: !shape.optional,
    });
  };
  for (const [key, child] of Object.entries(entriesOf(root) ?? {})) {
    visit(child, [key]);
  }
  return out;
}

/**
 * Whether the value at `path` (schema keys; list items by index) is secret
 * or inside something secret.
 */
export function isSecretAt(
  root: Shape,
  path: readonly (string | number)[],
): boolean {
  let current: Shape | undefined = root;
  for (const key of path) {
    if (current === undefined) return false;
    if (current.secret) return true;
    current = typeof key === "string"
      ? fieldOf(current, key)
      : current.kind === "list"
      ? current.item
      : undefined;
  }
  return current?.secret === true;
}

/**
 * One field of a configuration schema, as documented: where to set it and
 * what it takes.
 *
 * @example Usage
 * ```ts
 * import type { ConfigField } from "@cqi/config";
 *
 * const field: ConfigField = {
 *   path: "database.maxConnections",
 *   fileKey: "database.max_connections",
 *   envKey: "CQI_DATABASE_MAX_CONNECTIONS",
 *   type: "integer",
 *   required: false,
 *   default: "25",
 *   secret: false,
 *   description: "Largest number of pooled connections.",
 * };
 * ```
 */
export interface ConfigField {
  /** Dotted path in the typed configuration. */
  path: string;
  /** Dotted path in a config file (snake_case). */
  fileKey: string;
  /** The environment key (`<KEY>_FILE` works too). */
  envKey: string;
  /** What it takes: `string`, `integer`, `duration`, `secret`, `"a" | "b"`, `list of ...`. */
  type: string;
  /** Whether it must be set (when its section is present). */
  required: boolean;
  /** The default as written in a file, if there is one. */
  default?: string;
  /** Whether the value is a {@linkcode Secret}. */
  secret: boolean;
  /** What it is for. */
  description?: string;
}

/**
 * Options for {@linkcode configFields}.
 *
 * @example Usage
 * ```ts
 * import type { ConfigFieldsOptions } from "@cqi/config";
 *
 * const options: ConfigFieldsOptions = { prefix: "CQPM" };
 * ```
 */
export interface ConfigFieldsOptions {
  /** The schema. Default {@linkcode cqiSchema}. */
  schema?: ConfigSchema;
  /** Prefix of environment keys. Default `CQI`. */
  prefix?: string;
}

/**
 * Lists every field a schema reads, with its file key, environment key,
 * type, default and description: the source of the README's table, and of
 * a service's own `--help` or docs.
 *
 * @example Usage
 * ```ts
 * import { configFields } from "@cqi/config";
 *
 * const port = configFields().find((f) => f.path === "database.port");
 * console.log(port?.envKey, port?.default); // CQI_DATABASE_PORT 5432
 * ```
 *
 * @param options The schema and the environment prefix.
 * @returns The fields, in schema order.
 */
export function configFields(options: ConfigFieldsOptions = {}): ConfigField[] {
  const root = describe(options.schema ?? cqiSchema);
  return fieldTable(root, options.prefix ?? "CQI").map((f) => {
    const field: ConfigField = {
      path: f.path.join("."),
      fileKey: f.fileKey,
      envKey: f.envKey,
      type: f.shape.label,
      required: f.required,
      secret: f.shape.secret,
    };
    if (f.shape.hasDefault) {
      const value = f.shape.default;
      field.default = !Array.isArray(value)
        ? String(value)
        : value.length === 0
        ? "[]"
        : value.map(String).join(",");
    }
    if (f.shape.description !== undefined) {
      field.description = f.shape.description;
    }
    return field;
  });
}
