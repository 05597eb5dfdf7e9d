// The environment sources, highest first: the process environment (or the
// `env` option), then the `.env` file. A key is read as itself or through
// its `<KEY>_FILE` form; keys under the prefix that nothing reads are
// reported as likely typos. Not exported from mod.ts.
import { parseDotenv } from "./dotenv.ts";
import type { ConfigProblem, ConfigSource } from "./error.ts";
import type { Field } from "./fields.ts";
import type { Raw } from "./raw.ts";
import {
  type EnvReader,
  processEnv,
  type ReadError,
  readText,
  recordEnv,
} from "./runtime.ts";
import { unknownMessage } from "./suggest.ts";

/** One environment source: the process, or the `.env` file. */
export interface EnvLayer {
  /** Which. */
  kind: "env" | "dotenv";
  /** The variables. */
  reader: EnvReader;
  /** For `.env`: the file. */
  file?: string;
  /** For `.env`: the line of each key. */
  lines?: ReadonlyMap<string, number>;
}

/**
 * The environment layers, highest first: `env` (default: the process
 * environment), then the `.env` file `envFile` names: `undefined` for
 * `.env` in the working directory (skipped when absent; a warning when
 * unreadable), `false` for none. Malformed `.env` lines are problems.
 */
export async function readEnvLayers(
  env: Readonly<Record<string, string | undefined>> | undefined,
  envFile: string | false | undefined,
  problems: ConfigProblem[],
  warnings: ConfigProblem[],
): Promise<EnvLayer[]> {
  const layers: EnvLayer[] = [{
    kind: "env",
    reader: env === undefined ? processEnv() : recordEnv(env),
  }];
  if (envFile === false) return layers;
  const file = envFile ?? ".env";
  let text: string;
  try {
    text = await readText(file);
  } catch (error) {
    if (envFile === undefined && (error as ReadError).reason === "not_found") {
      return layers;
    }
    (envFile === undefined ? warnings : problems).push({
      path: "",
      message: `.env file not read: ${(error as Error).message}`,
      source: { kind: "dotenv", file },
    });
    return layers;
  }
  const parsed = parseDotenv(text);
  for (const { line, message } of parsed.problems) {
    problems.push({
      path: "",
      message: `malformed .env line: ${message}`,
      source: { kind: "dotenv", file, line },
    });
  }
  const values = Object.fromEntries(
    parsed.entries.map((e) => [e.key, e.value]),
  );
  const lines = new Map(parsed.entries.map((e) => [e.key, e.line]));
  const reader = recordEnv(values);
  return [...layers, { kind: "dotenv", reader, file, lines }];
}

function sourceIn(layer: EnvLayer, key: string): ConfigSource {
  if (layer.kind === "env") return { kind: "env", env: key };
  return {
    kind: "dotenv",
    file: layer.file,
    line: layer.lines?.get(key),
    env: key,
  };
}

// A variable's value in a layer; empty counts as unset.
function valueIn(layer: EnvLayer, key: string): string | undefined {
  const value = layer.reader.get(key);
  return value === "" ? undefined : value;
}

/** The value of `key` in the highest layer that sets it. */
export function firstValue(
  layers: readonly EnvLayer[],
  key: string,
): { value: string; source: ConfigSource } | undefined {
  for (const layer of layers) {
    const value = valueIn(layer, key);
    if (value !== undefined) return { value, source: sourceIn(layer, key) };
  }
  return undefined;
}

/**
 * Looks `key` up in the layers, highest first: `KEY` itself, or the content
 * of the file named by `KEY_FILE` (trailing newlines removed). Both set in
 * one layer, or an unreadable file, is a `problem`.
 */
export async function lookup(
  layers: readonly EnvLayer[],
  key: string,
  read: (path: string) => Promise<string> = readText,
): Promise<Raw | undefined> {
  for (const layer of layers) {
    const direct = valueIn(layer, key);
    const file = valueIn(layer, `${key}_FILE`);
    if (direct !== undefined && file !== undefined) {
      const problem = `both ${key} and ${key}_FILE are set; set only one`;
      return { value: null, source: sourceIn(layer, key), problem };
    }
    if (direct !== undefined) {
      return { value: direct, source: sourceIn(layer, key) };
    }
    if (file === undefined) continue;
    const source = { ...sourceIn(layer, `${key}_FILE`), file };
    delete source.line;
    try {
      return { value: (await read(file)).replace(/[\r\n]+$/, ""), source };
    } catch (error) {
      const problem = `cannot read ${key}_FILE: ${(error as Error).message}`;
      return { value: null, source, problem };
    }
  }
  return undefined;
}

/**
 * The value of each field whose environment key is set, by field. A key
 * that cannot be read is a problem, and its field is then unset.
 */
export async function readFields(
  layers: readonly EnvLayer[],
  fields: readonly Field[],
  problems: ConfigProblem[],
): Promise<Map<Field, Raw>> {
  const values = new Map<Field, Raw>();
  for (const field of fields) {
    const found = await lookup(layers, field.envKey);
    if (found === undefined) continue;
    const { problem: message, source } = found;
    if (message !== undefined) {
      problems.push({ path: field.path.join("."), message, source });
    }
    values.set(field, message === undefined ? found : { value: null, source });
  }
  return values;
}

/**
 * Warns about variables under `PREFIX_` that no field, `_FILE` companion,
 * `${VAR}` reference or the config-file key accounts for: likely typos.
 */
export function unknownKeys(
  layers: readonly EnvLayer[],
  prefix: string,
  known: Iterable<string>,
): ConfigProblem[] {
  if (prefix === "") return [];
  const accepted = new Set<string>();
  for (const key of known) accepted.add(key).add(`${key}_FILE`);
  const warnings: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const layer of layers) {
    for (const key of layer.reader.keys() ?? []) {
      if (!key.startsWith(`${prefix}_`) || accepted.has(key)) continue;
      if (seen.has(key)) continue;
      seen.add(key);
      warnings.push({
        path: "",
        message: unknownMessage("environment key", key, accepted),
        source: sourceIn(layer, key),
      });
    }
  }
  return warnings;
}
