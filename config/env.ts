// Environment sources: the process environment over the `.env` file, the
// `<KEY>_FILE` convention, the overlay of `PREFIX_SECTION_FIELD` keys onto
// the tree, and warnings for unknown keys under the prefix. Not exported
// from mod.ts.
import type { ConfigProblem, ConfigSource } from "./error.ts";
import { envKey, type Leaf } from "./introspect.ts";
import { RawMap, type RawNode, RawScalar } from "./raw.ts";
import type { EnvReader } from "./runtime.ts";
import { unknownMessage } from "./suggest.ts";

/** One environment source: the process, or the `.env` file. */
export interface EnvLayer {
  /** Which. */
  kind: "env" | "dotenv";
  /** The variables. */
  reader: EnvReader;
  /** For `.env`: the file and the line of each key. */
  file?: string;
  /** For `.env`: the line of each key. */
  lines?: ReadonlyMap<string, number>;
}

/** A variable found in a layer, with its source. */
export interface Found {
  /** The value. */
  value: string;
  /** Where it came from. */
  source: ConfigSource;
}

/** Reads a secret file; rejects with a message on failure. */
export type SecretReader = (path: string) => Promise<string>;

function sourceIn(layer: EnvLayer, key: string): ConfigSource {
  if (layer.kind === "env") return { kind: "env", env: key };
  return {
    kind: "dotenv",
    file: layer.file,
    line: layer.lines?.get(key),
    env: key,
  };
}

/** A variable's value in a layer; empty counts as unset. */
function valueIn(layer: EnvLayer, key: string): string | undefined {
  const value = layer.reader.get(key);
  return value === undefined || value === "" ? undefined : value;
}

/** The value of `key` in the highest layer that sets it. */
export function firstValue(
  layers: readonly EnvLayer[],
  key: string,
): Found | undefined {
  for (const layer of layers) {
    const value = valueIn(layer, key);
    if (value !== undefined) return { value, source: sourceIn(layer, key) };
  }
  return undefined;
}

/**
 * Looks `key` up in the layers, highest first: `KEY` itself, or the content
 * of the file named by `KEY_FILE` (trailing newlines removed). Returns a
 * problem message when both are set in one layer or the file is unreadable.
 */
export async function lookup(
  layers: readonly EnvLayer[],
  key: string,
  readSecret: SecretReader,
): Promise<Found | { problem: string; source: ConfigSource } | undefined> {
  for (const layer of layers) {
    const direct = valueIn(layer, key);
    const file = valueIn(layer, `${key}_FILE`);
    if (direct !== undefined && file !== undefined) {
      return {
        problem: `both ${key} and ${key}_FILE are set; set only one`,
        source: sourceIn(layer, key),
      };
    }
    if (direct !== undefined) {
      return { value: direct, source: sourceIn(layer, key) };
    }
    if (file !== undefined) {
      const source = { ...sourceIn(layer, `${key}_FILE`), file };
      if (layer.kind === "dotenv") delete source.line;
      try {
        const content = await readSecret(file);
        return { value: content.replace(/[\r\n]+$/, ""), source };
      } catch (error) {
        return {
          problem: `cannot read ${key}_FILE: ${(error as Error).message}`,
          source,
        };
      }
    }
  }
  return undefined;
}

/**
 * Sets each leaf whose environment key is set onto `root`, replacing what
 * the file gave. Returns the environment keys of the leaves.
 */
export async function overlay(
  root: RawMap,
  leaves: readonly Leaf[],
  layers: readonly EnvLayer[],
  prefix: string,
  readSecret: SecretReader,
  problems: ConfigProblem[],
): Promise<string[]> {
  const keys: string[] = [];
  for (const leaf of leaves) {
    const key = envKey(prefix, leaf.path);
    keys.push(key);
    const found = await lookup(layers, key, readSecret);
    if (found === undefined) continue;
    if ("problem" in found) {
      problems.push({
        path: leaf.path.join("."),
        message: found.problem,
        source: found.source,
      });
      // Drop the file's value: the problem is reported once, here.
      setAt(root, leaf.path, new RawScalar(null, found.source));
      continue;
    }
    setAt(root, leaf.path, new RawScalar(found.value, found.source));
  }
  return keys;
}

function setAt(root: RawMap, path: readonly string[], node: RawNode): void {
  let current = root;
  for (const key of path.slice(0, -1)) {
    const next = current.entries.get(key);
    if (next instanceof RawMap) {
      current = next;
      continue;
    }
    const created = new RawMap(new Map(), node.source);
    current.entries.set(key, created);
    current = created;
  }
  current.entries.set(path[path.length - 1], node);
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
  for (const key of known) {
    accepted.add(key);
    accepted.add(`${key}_FILE`);
  }
  const warnings: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const layer of layers) {
    for (const key of layer.reader.keys() ?? []) {
      if (!key.startsWith(`${prefix}_`) || accepted.has(key) || seen.has(key)) {
        continue;
      }
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
