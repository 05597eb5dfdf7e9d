// The config file, YAML or JSON, read into Raw values whose text is kept as
// written (`1.10` stays "1.10"; the schema decides the type), each with its
// line and column. Not exported from mod.ts.
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
import type { Raw } from "./raw.ts";
import { readText } from "./runtime.ts";

/** A parsed config file. */
export interface ParsedFile {
  /** The top-level mapping, when the file parsed (absent for an empty file). */
  root?: Raw;
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
  const at = (offset = 0): ConfigSource => {
    const { line, col } = lines.linePos(offset);
    return { kind: "file", file: path, line, column: col };
  };
  const fail = (message: string, source: ConfigSource): ParsedFile => ({
    problems: [{ path: "", message, source }],
  });
  if (path.toLowerCase().endsWith(".json")) {
    const error = jsonSyntaxError(text);
    if (error !== undefined) {
      const before = text.slice(0, error.offset);
      return fail(`malformed JSON: ${error.message}`, {
        kind: "file",
        file: path,
        line: before.split("\n").length,
        column: error.offset - before.lastIndexOf("\n"),
      });
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
  // A mapping or list under a key is located at its key; a missing value
  // (`? key` alone) is empty.
  const convert = (
    node: unknown,
    depth: number,
    keyAt?: ConfigSource,
  ): Raw | undefined => {
    if (depth > MAX_DEPTH) {
      problems.push({
        path: "",
        message: "nested too deeply (a recursive anchor?)",
        source: { kind: "file", file: path },
      });
      return undefined;
    }
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target !== undefined) return convert(target, depth + 1, keyAt);
      const source = at(node.range?.[0]);
      problems.push({ path: "", message: "alias of no anchor", source });
      return undefined;
    }
    if (node === null) return { value: null, source: keyAt ?? at() };
    const own = at((node as Node).range?.[0]);
    if (isMap(node)) {
      const entries = new Map<string, Raw>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : undefined;
        const keySource = at((pair.key as Node | null)?.range?.[0]);
        if (key === undefined || key === null || typeof key === "object") {
          problems.push({
            path: "",
            message: "expected a plain key",
            source: keySource,
          });
          continue;
        }
        const value = convert(pair.value, depth + 1, keySource);
        if (value !== undefined) entries.set(String(key), value);
      }
      return { value: entries, source: keyAt ?? own };
    }
    if (isSeq(node)) {
      const items: Raw[] = node.items.flatMap((item) =>
        convert(item, depth + 1) ?? []
      );
      return { value: items, source: keyAt ?? own };
    }
    if (!isScalar(node)) return undefined;
    const value = node.value === null || typeof node.value === "string"
      ? node.value
      : node.source ?? String(node.value);
    return { value, source: own };
  };
  if (doc.contents === null) return { problems };
  const root = convert(doc.contents, 0);
  if (!(root?.value instanceof Map)) {
    return fail(
      "expected a mapping of sections at the top level",
      at(doc.contents.range?.[0]),
    );
  }
  return { root, problems };
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
): Promise<{ root?: Raw; failed: boolean }> {
  if (option === false) return { failed: false };
  let path = option;
  let source: ConfigSource = { kind: "file", file: path };
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
      source,
    });
    return { failed: true };
  }
  const parsed = parseConfigText(text, path);
  problems.push(...parsed.problems);
  return { root: parsed.root, failed: parsed.problems.length > 0 };
}
