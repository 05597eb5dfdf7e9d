import * as v from "valibot";
import { readDotenv } from "./dotenv.ts";
import { type EnvLayer, overlay, unknownKeys } from "./env.ts";
import {
  configError,
  type ConfigProblem,
  formatProblem,
  isConfigError,
} from "./error.ts";
import { readConfigFile } from "./file.ts";
import { interpolateTree } from "./interpolate.ts";
import { envKey, leavesOf, type SchemaNode, snakeCase } from "./introspect.ts";
import { type IssueLike, issueProblems } from "./issues.ts";
import { materialise } from "./materialise.ts";
import { normalise } from "./normalise.ts";
import { RawMap } from "./raw.ts";
import { exitProcess, processEnv, readText, recordEnv } from "./runtime.ts";
import { type CqiConfig, cqiSchema } from "./schema.ts";
import type { ConfigSchema } from "./schema_type.ts";

/**
 * Options for {@linkcode loadConfig} and {@linkcode mustLoad}.
 *
 * @example Usage
 * ```ts
 * import type { LoadOptions } from "@cqi/config";
 *
 * const options: LoadOptions = { file: "config.yaml", envFile: false };
 * ```
 *
 * @typeParam T The configuration type, inferred from `schema`.
 */
export interface LoadOptions<T = CqiConfig> {
  /**
   * The schema to load. Default {@linkcode cqiSchema}; extend it with
   * `v.object({ ...cqiSections, mine: v.object({...}) })`.
   */
  schema?: ConfigSchema<T>;
  /**
   * The YAML or JSON config file (JSON when the name ends in `.json`).
   * Default: the path in `<PREFIX>_CONFIG_FILE`, else no file. `false`: no
   * file. A file that is named but missing is a problem.
   */
  file?: string | false;
  /**
   * The `.env` file. Default `.env` in the working directory, read when
   * present. `false`: none. A path given here must exist.
   */
  envFile?: string | false;
  /** The environment. Default: the process environment. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Prefix of environment keys. Default `CQI` (`CQI_DATABASE_HOST`). */
  prefix?: string;
  /**
   * Receives warnings (unknown environment keys or file keys, an unreadable
   * `.env`) when loading succeeds. Default: `console.warn`.
   */
  onWarning?: (warning: ConfigProblem) => void;
}

/**
 * Loads configuration from defaults, a YAML or JSON file, a `.env` file and
 * the environment (lowest to highest precedence), coerces the strings to
 * the schema's types, and validates it. Returns the typed configuration, or
 * throws one {@linkcode ConfigError} listing every problem.
 *
 * On Deno it needs `--allow-env` and `--allow-read` for the config file,
 * `.env` and any `<KEY>_FILE` secret files; nothing prompts.
 *
 * @example Usage
 * ```ts
 * import { loadConfig } from "@cqi/config";
 *
 * const config = await loadConfig({
 *   env: {
 *     CQI_SERVICE_NAME: "cqpm",
 *     CQI_DATABASE_HOST: "db.internal",
 *     CQI_DATABASE_DATABASE: "cqpm",
 *     CQI_DATABASE_PASSWORD: "hunter2",
 *   },
 *   envFile: false,
 * });
 * console.log(config.database?.port, config.database?.connectionTimeout); // 5432 30000
 * console.log(`${config.database?.password}`); // [REDACTED]
 * ```
 *
 * @typeParam T The configuration type, inferred from `schema`.
 * @param options The schema and the sources.
 * @returns The validated configuration.
 * @throws {ConfigError} When anything is missing, malformed or invalid.
 */
export async function loadConfig<T = CqiConfig>(
  options: LoadOptions<T> = {},
): Promise<T> {
  const schema = (options.schema ?? cqiSchema) as ConfigSchema<T>;
  const node = schema as unknown as SchemaNode;
  const prefix = options.prefix ?? "CQI";
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];

  const layers: EnvLayer[] = [{
    kind: "env",
    reader: options.env === undefined ? processEnv() : recordEnv(options.env),
  }];
  const dotenv = await readDotenv(options.envFile, problems, warnings);
  if (dotenv !== undefined) layers.push(dotenv);

  const configKey = `${prefix}_CONFIG_FILE`;
  const file = await readConfigFile(options.file, layers, configKey, problems);
  const vars = file.root === undefined
    ? new Set<string>()
    : await interpolateTree(file.root, layers);
  const root = file.root === undefined
    ? new RawMap(new Map(), { kind: "default" })
    : normalise(node, file.root, warnings);

  const leaves = leavesOf(node);
  const keys = await overlay(root, leaves, layers, prefix, readText, problems);
  warnings.push(...unknownKeys(layers, prefix, [...keys, configKey, ...vars]));

  const merged = materialise(node, root, warnings);
  problems.push(...merged.problems);
  if (file.failed) throw configError(problems, warnings);

  const result = v.safeParse(
    schema as unknown as v.GenericSchema<unknown, T>,
    merged.value,
    { abortEarly: false },
  );
  if (!result.success) {
    const reported = new Set(problems.map((p) => p.path));
    const hint = (path: readonly string[]) => requiredHint(node, prefix, path);
    problems.push(
      ...issueProblems(
        node,
        result.issues as unknown as IssueLike[],
        merged.sources,
        hint,
        reported,
      ),
    );
  }
  if (problems.length > 0 || !result.success) {
    throw configError(problems, warnings);
  }
  const onWarning = options.onWarning ?? defaultWarning;
  for (const warning of warnings) onWarning(warning);
  return result.output;
}

/**
 * Like {@linkcode loadConfig}, but on a {@linkcode ConfigError} prints the
 * report to stderr and exits with status 1 (`Deno.exit` or `process.exit`),
 * the analog of Go's `MustLoad`. Other errors are rethrown.
 *
 * @example Usage
 * ```ts ignore
 * import { mustLoad } from "@cqi/config";
 *
 * const config = await mustLoad({ file: "config.yaml" });
 * console.log(`starting ${config.service.name}`);
 * ```
 *
 * @typeParam T The configuration type, inferred from `schema`.
 * @param options The schema and the sources.
 * @returns The validated configuration.
 */
export async function mustLoad<T = CqiConfig>(
  options: LoadOptions<T> = {},
): Promise<T> {
  try {
    return await loadConfig(options);
  } catch (error) {
    if (!isConfigError(error)) throw error;
    console.error(error.message);
    return exitProcess(1);
  }
}

function defaultWarning(warning: ConfigProblem): void {
  console.warn(`config warning: ${formatProblem(warning)}`);
}

// "set CQI_DATABASE_HOST or database.host in the config file" for a missing
// field or section, listing the required fields under it.
function requiredHint(
  schema: SchemaNode,
  prefix: string,
  path: readonly string[],
): string {
  const under = leavesOf(schema).filter((leaf) =>
    leaf.required &&
    path.every((key, i) => leaf.path[i] === key)
  );
  if (under.length === 0) return "set it in the config file";
  const env = under.map((leaf) => envKey(prefix, leaf.path)).join(", ");
  const file = under.map((leaf) => leaf.path.map(snakeCase).join(".")).join(
    ", ",
  );
  return `set ${env} or ${file} in the config file`;
}
