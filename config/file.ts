// Reads and parses the YAML or JSON config file into a raw tree whose
// scalars keep their text as written (`1.10` stays "1.10"; the schema
// decides the type) and their line and column. Not exported from mod.ts.
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from "yaml";
import { type EnvLayer, firstValue } from "./env.ts";
import type { ConfigProblem, ConfigSource } from "./error.ts";
import { jsonSyntaxError } from "./json_syntax.ts";
import { RawList, RawMap, type RawNode, RawScalar } from "./raw.ts";
import { readText } from "./runtime.ts";

/** The result of parsing a config file. */
export interface ParsedFile {
  /** The top-level mapping, when the file parsed (absent for an empty file). */
  root?: RawMap;
  /** Syntax errors, each with its line and column. */
  problems: ConfigProblem[];
}

// Anchors can make a document refer to itself; stop descending after this.
const MAX_DEPTH = 64;

/**
 * Parses the text of the config file at `path`: JSON when the name ends in
 * `.json`, YAML otherwise.
 */
export function parseConfigText(text: string, path: string): ParsedFile {
  const lines = new LineCounter();
  const at = (offset: number): ConfigSource => {
    const { line, col } = lines.linePos(offset);
    return { kind: "file", file: path, line, column: col };
  };
  if (path.toLowerCase().endsWith(".json")) {
    const error = jsonSyntaxError(text);
    if (error !== undefined) {
      const { line, column } = position(text, error.offset);
      return {
        problems: [{
          path: "",
          message: `malformed JSON: ${error.message}`,
          source: { kind: "file", file: path, line, column },
        }],
      };
    }
  }
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
  });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((error) => ({
        path: "",
        message: `malformed YAML: ${error.message}`,
        source: at(error.pos[0]),
      })),
    };
  }
  const problems: ConfigProblem[] = [];
  // A mapping or list under a key is located at its key.
  const convert = (
    node: unknown,
    depth: number,
    keyAt?: ConfigSource,
  ): RawNode | undefined => {
    if (depth > MAX_DEPTH) {
      problems.push({
        path: "",
        message: "nested too deeply (a recursive anchor?)",
        source: { kind: "file", file: path },
      });
      return undefined;
    }
    if (isAlias(node)) return convert(node.resolve(doc), depth + 1, keyAt);
    const own = at((node as Node).range?.[0] ?? 0);
    const source = (isMap(node) || isSeq(node)) ? keyAt ?? own : own;
    if (isMap(node)) {
      const entries = new Map<string, RawNode>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : undefined;
        if (key === undefined || key === null || typeof key === "object") {
          problems.push({
            path: "",
            message: "expected a plain key",
            source: at((pair.key as Node | null)?.range?.[0] ?? 0),
          });
          continue;
        }
        const keySource = at((pair.key as Node).range?.[0] ?? 0);
        const value = convert(pair.value, depth + 1, keySource);
        if (value !== undefined) entries.set(String(key), value);
      }
      return new RawMap(entries, source);
    }
    if (isSeq(node)) {
      const items = node.items.map((item) => convert(item, depth + 1));
      return new RawList(
        items.filter((item): item is RawNode => item !== undefined),
        source,
      );
    }
    if (isScalar(node)) {
      if (node.value === null) return new RawScalar(null, source);
      const value = typeof node.value === "string"
        ? node.value
        : node.source ?? String(node.value);
      return new RawScalar(value, source);
    }
    return node === null ? new RawScalar(null, source) : undefined;
  };
  if (doc.contents === null) return { problems };
  const root = convert(doc.contents, 0);
  if (!(root instanceof RawMap)) {
    return {
      problems: [{
        path: "",
        message: "expected a mapping of sections at the top level",
        source: at(doc.contents.range?.[0] ?? 0),
      }],
    };
  }
  return { root, problems };
}

function position(text: string, offset: number): {
  line: number;
  column: number;
} {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/**
 * Reads and parses the config file: `option` is its path, `undefined` for
 * the path in `configKey` (`CQI_CONFIG_FILE`) if set, or `false` for none.
 * `failed` is set when the file is named but could not be read or parsed.
 */
export async function readConfigFile(
  option: string | false | undefined,
  layers: readonly EnvLayer[],
  configKey: string,
  problems: ConfigProblem[],
): Promise<{ root?: RawMap; failed: boolean }> {
  if (option === false) return { failed: false };
  let path = option;
  let source: ConfigSource | undefined;
  if (path === undefined) {
    const found = firstValue(layers, configKey);
    if (found === undefined) return { failed: false };
    path = found.value;
    source = { ...found.source, file: path };
  }
  let text: string;
  try {
    text = await readText(path);
  } catch (error) {
    problems.push({
      path: "",
      message: `config file not read: ${(error as Error).message}`,
      source: source ?? { kind: "file", file: path },
    });
    return { failed: true };
  }
  const parsed = parseConfigText(text, path);
  problems.push(...parsed.problems);
  return { root: parsed.root, failed: parsed.problems.length > 0 };
}
