import {
  envKey,
  isDurationSchema,
  leavesOf,
  type SchemaNode,
  snakeCase,
  unwrap,
} from "./introspect.ts";
import { cqiSchema } from "./schema.ts";
import type { ConfigSchema } from "./schema_type.ts";

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
  const schema = (options.schema ?? cqiSchema) as unknown as SchemaNode;
  const prefix = options.prefix ?? "CQI";
  return leavesOf(schema).map((leaf) => {
    const info = unwrap(leaf.schema);
    const field: ConfigField = {
      path: leaf.path.join("."),
      fileKey: leaf.path.map(snakeCase).join("."),
      envKey: envKey(prefix, leaf.path),
      type: typeLabel(leaf.schema),
      required: leaf.required,
      secret: info.metadata.secret === true,
    };
    if (info.hasDefault) field.default = display(info.default);
    if (info.description !== undefined) field.description = info.description;
    return field;
  });
}

function display(value: unknown): string {
  if (Array.isArray(value)) {
    return value.length === 0 ? "[]" : value.map(String).join(",");
  }
  return String(value);
}

function typeLabel(schema: SchemaNode): string {
  const info = unwrap(schema);
  if (isDurationSchema(schema)) return "duration";
  const base = info.base;
  const secret = info.metadata.secret === true;
  let label: string;
  switch (base.type) {
    case "number":
      label = info.actions.some((a) => a.type === "integer")
        ? "integer"
        : "number";
      break;
    case "picklist":
      label = (base.options ?? []).map((o) => JSON.stringify(o)).join(" | ");
      break;
    case "array":
      label = `list of ${typeLabel(base.item!)}`;
      break;
    case "union":
      label = (base.options as SchemaNode[]).map(typeLabel).join(" or ");
      break;
    case "object":
      label = "mapping";
      break;
    default:
      label = base.type;
  }
  if (!secret) return label;
  return base.type === "string" ? "secret" : `${label} (secret)`;
}
