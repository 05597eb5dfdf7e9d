import { CqiError, invalidInput } from "@cqi/errors";

/**
 * Where a configuration value came from.
 *
 * - `file`: the YAML or JSON config file (`env` names the variables a
 *   `${VAR}` in the value read);
 * - `dotenv`: the `.env` file, `env` being the key;
 * - `env`: the process environment, `env` being the key (for `<KEY>_FILE`,
 *   `file` is the secret file read);
 * - `default`: the schema's default.
 *
 * @example Usage
 * ```ts
 * import type { ConfigSource } from "@cqi/config";
 *
 * const source: ConfigSource = { kind: "file", file: "config.yaml", line: 4, column: 9 };
 * ```
 */
export interface ConfigSource {
  /** Which source. */
  kind: "file" | "dotenv" | "env" | "default";
  /** The file read, if any. */
  file?: string;
  /** 1-based line in `file`, where known. */
  line?: number;
  /** 1-based column in `file`, where known. */
  column?: number;
  /** The environment variable(s) involved, if any. */
  env?: string;
}

/**
 * One problem (or warning) found while loading configuration.
 *
 * @example Usage
 * ```ts
 * import type { ConfigProblem } from "@cqi/config";
 *
 * const problem: ConfigProblem = {
 *   path: "database.port",
 *   message: "expected a port number 1-65535, got 70000",
 *   source: { kind: "env", env: "CQI_DATABASE_PORT" },
 * };
 * ```
 */
export interface ConfigProblem {
  /**
   * Dotted path of the field, such as `database.maxConnections` (array items
   * by index: `auth.apiKeys.0.id`); empty for a whole file.
   */
  path: string;
  /** What is wrong: what was expected and, unless secret, what was found. */
  message: string;
  /** Where the value came from, when known. */
  source?: ConfigSource;
}

/**
 * Formats a source: `config.yaml:4:9`, `env CQI_DATABASE_PORT`,
 * `.env:3 (CQI_DATABASE_PORT)`, `default`.
 */
export function formatSource(source: ConfigSource): string {
  const at = source.file === undefined
    ? ""
    : [source.file, source.line, source.column]
      .filter((part) => part !== undefined)
      .join(":");
  switch (source.kind) {
    case "env":
      return at === "" ? `env ${source.env}` : `env ${source.env} (file ${at})`;
    case "dotenv":
      return `${at} (${source.env})`;
    case "file":
      if (source.env === undefined) return at;
      return `${at} (from ${
        source.env.split(", ").map((name) => `\${${name}}`).join(", ")
      })`;
    default:
      return "default";
  }
}

/** Formats a problem as one line: `path: message [source]`. */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.source === undefined
    ? ""
    : ` [${formatSource(problem.source)}]`;
  const path = problem.path === "" ? "" : `${problem.path}: `;
  return `${path}${problem.message}${where}`;
}

/** The multi-line report of a failed load, as printed by `mustLoad`. */
export function formatReport(
  problems: readonly ConfigProblem[],
  warnings: readonly ConfigProblem[],
): string {
  const count = problems.length === 1
    ? "1 problem"
    : `${problems.length} problems`;
  const lines = [`invalid configuration (${count}):`];
  for (const problem of problems) lines.push(`  - ${formatProblem(problem)}`);
  if (warnings.length > 0) {
    lines.push("warnings:");
    for (const warning of warnings) {
      lines.push(`  - ${formatProblem(warning)}`);
    }
  }
  return lines.join("\n");
}

/**
 * Configuration could not be loaded: an `invalid_input` `CqiError` (made by
 * `invalidInput` from `@cqi/errors`, so `isInvalidInput` and the HTTP/gRPC
 * mappings apply) that lists every problem at once, each with its path,
 * source and what was expected. Its `message` is the full report, `fields`
 * maps each path to its problem, and secret values never appear in either.
 * Recognise it with {@linkcode isConfigError}.
 *
 * @example Usage
 * ```ts
 * import { isConfigError, loadConfig } from "@cqi/config";
 *
 * try {
 *   await loadConfig({ env: { CQI_SERVER_PORT: "http" }, envFile: false });
 * } catch (error) {
 *   if (!isConfigError(error)) throw error;
 *   console.log(error.kind); // "invalid_input"
 *   console.log(error.problems.map((p) => p.path)); // ["service", "server.port"]
 * }
 * ```
 */
export interface ConfigError extends Error {
  /** Always `"ConfigError"`. */
  readonly name: "ConfigError";
  /** Always `invalid_input`. */
  readonly kind: "invalid_input";
  /** Each problem's message by path (the file for file-level problems). */
  readonly fields?: Readonly<Record<string, string>>;
  /** Every problem found. */
  readonly problems: readonly ConfigProblem[];
  /** Warnings found on the way, such as unknown environment keys. */
  readonly warnings: readonly ConfigProblem[];
}

/** Creates the {@linkcode ConfigError} for `problems`. */
export function configError(
  problems: readonly ConfigProblem[],
  warnings: readonly ConfigProblem[] = [],
): ConfigError {
  const fields: Record<string, string> = {};
  for (const problem of problems) {
    const key = problem.path === ""
      ? problem.source?.file ?? problem.source?.env ?? "(config)"
      : problem.path;
    fields[key] = fields[key] === undefined
      ? problem.message
      : `${fields[key]}; ${problem.message}`;
  }
  const error = invalidInput(formatReport(problems, warnings), { fields });
  error.name = "ConfigError";
  return Object.assign(error, { problems, warnings }) as unknown as ConfigError;
}

/**
 * Whether `error` is a {@linkcode ConfigError}, as thrown by `loadConfig`.
 *
 * @example Usage
 * ```ts
 * import { isConfigError, loadConfig } from "@cqi/config";
 *
 * const failed = await loadConfig({ env: {}, envFile: false }).catch((e) => e);
 * console.log(isConfigError(failed), failed.problems.length); // true 1
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether it is a configuration error.
 */
export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof CqiError && error.name === "ConfigError" &&
    Array.isArray((error as { problems?: unknown }).problems);
}
