// loadConfig in five steps, one direction: the schema walked once into the
// field table (valibot_adapter.ts, fields.ts); each source read into Raw
// values with their origins (env.ts, file.ts, interpolate.ts); merged by
// precedence and coerced (merge.ts); validated once (valibot_adapter.ts);
// the issues turned into one ConfigError (issues.ts, error.ts).
import process from "node:process";
import { readEnvLayers, readFields, unknownKeys } from "./env.ts";
import {
  configError,
  type ConfigProblem,
  formatProblem,
  isConfigError,
} from "./error.ts";
import { fieldTable } from "./fields.ts";
import { readConfigFile } from "./file.ts";
import { interpolate } from "./interpolate.ts";
import { issueProblems } from "./issues.ts";
import { merge } from "./merge.ts";
import { type CqiConfig, cqiSchema } from "./schema.ts";
import { type ConfigSchema, describe, validate } from "./valibot_adapter.ts";

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
  const prefix = options.prefix ?? "CQI";
  const configKey = `${prefix}_CONFIG_FILE`;
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];

  // 1. The schema, walked once into the field table.
  const shape = describe(schema);
  const fields = fieldTable(shape, prefix);

  // 2. The sources, each value with its origin: the environment and .env,
  // the file with its ${VAR}s filled in from them, each field's key.
  const { env, envFile } = options;
  const layers = await readEnvLayers(env, envFile, problems, warnings);
  const file = await readConfigFile(options.file, layers, configKey, problems);
  const vars = file.root === undefined
    ? new Set<string>()
    : await interpolate(file.root, layers);
  const fromEnv = await readFields(layers, fields, problems);

  // 3. Merged by precedence: the environment over .env over the file (the
  // schema fills in its defaults when validating).
  const merged = merge(shape, file.root, fromEnv, problems, warnings);
  const known = [...fields.map((field) => field.envKey), configKey, ...vars];
  warnings.push(...unknownKeys(layers, prefix, known), ...merged.jsonWarnings);
  if (file.failed) throw configError(problems, warnings);

  // 4. Validated once; 5. every issue a problem of one ConfigError.
  const result = validate(schema, merged.value);
  if (!result.ok) {
    const reported = new Set(problems.map((problem) => problem.path));
    problems.push(
      ...issueProblems(result.issues, shape, fields, merged.sources, reported),
    );
  }
  if (problems.length > 0 || !result.ok) {
    throw configError(problems, warnings);
  }
  const onWarning = options.onWarning ?? defaultWarning;
  for (const warning of warnings) onWarning(warning);
  return result.value;
}

/**
 * Like {@linkcode loadConfig}, but on a {@linkcode ConfigError} prints the
 * report to stderr and exits with status 1 (`process.exit`),
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
    return process.exit(1);
  }
}

function defaultWarning(warning: ConfigProblem): void {
  console.warn(`config warning: ${formatProblem(warning)}`);
}
