// `${VAR}` and `${VAR:default}` in config file values. `$${` is a literal
// `${`. A default is used when the variable is unset or empty; it runs to
// the first `}` and may contain `:` (`${BROKER:localhost:9092}`). Not
// exported from mod.ts.
import { type EnvLayer, lookup } from "./env.ts";
import { RawList, RawMap, type RawNode, RawScalar } from "./raw.ts";
import { readText } from "./runtime.ts";

/** A reference to a variable inside a value. */
export interface VarRef {
  /** The variable name. */
  name: string;
  /** The default after `:`, if any. */
  fallback?: string;
}

/** A value split into literal text and variable references. */
export type Template = (string | VarRef)[];

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Splits `text` into parts, or returns a message when it is malformed. */
export function parseTemplate(text: string): Template | { error: string } {
  const parts: Template = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      literal += "${";
      i += 3;
      continue;
    }
    if (!text.startsWith("${", i)) {
      literal += text[i++];
      continue;
    }
    const end = text.indexOf("}", i + 2);
    if (end < 0) {
      return { error: "unterminated ${ (expected ${VAR} or ${VAR:default})" };
    }
    const inner = text.slice(i + 2, end);
    const colon = inner.indexOf(":");
    const name = colon < 0 ? inner : inner.slice(0, colon);
    if (!NAME.test(name)) {
      return {
        error: `malformed \${${name}} (expected \${VAR} or \${VAR:default})`,
      };
    }
    if (literal !== "") parts.push(literal);
    literal = "";
    parts.push(
      colon < 0 ? { name } : { name, fallback: inner.slice(colon + 1) },
    );
    i = end + 1;
  }
  if (literal !== "" || parts.length === 0) parts.push(literal);
  return parts;
}

/** The result of {@linkcode render}. */
export interface Rendered {
  /** The value, when every variable resolved. */
  value?: string;
  /** Variables that were unset and had no default. */
  missing: string[];
}

/** Fills in a template; `lookup` returns `undefined` for an unset variable. */
export function render(
  template: Template,
  lookup: (name: string) => string | undefined,
): Rendered {
  let value = "";
  const missing: string[] = [];
  for (const part of template) {
    if (typeof part === "string") {
      value += part;
      continue;
    }
    const found = lookup(part.name);
    if (part.fallback !== undefined && (found === undefined || found === "")) {
      value += part.fallback;
    } else if (found === undefined) {
      missing.push(part.name);
    } else {
      value += found;
    }
  }
  return missing.length > 0 ? { missing } : { value, missing };
}

/** The variables a template reads. */
export function varsOf(template: Template): string[] {
  return template.flatMap((part) =>
    typeof part === "string" ? [] : [part.name]
  );
}

// Fills in `${VAR}`s in every scalar of the file; a value that cannot be
// completed carries its problem (dropped if the environment overrides the
// field). Returns the variables referenced.
export async function interpolateTree(
  root: RawMap,
  layers: readonly EnvLayer[],
): Promise<Set<string>> {
  const scalars: RawScalar[] = [];
  const collect = (node: RawNode) => {
    if (node instanceof RawScalar) scalars.push(node);
    else if (node instanceof RawList) node.items.forEach(collect);
    else node.entries.forEach(collect);
  };
  collect(root);
  const templates = new Map(
    scalars.filter((s) => s.value?.includes("$")).map((s) => [
      s,
      parseTemplate(s.value!),
    ]),
  );
  const names = new Set<string>();
  for (const template of templates.values()) {
    if (Array.isArray(template)) varsOf(template).forEach((n) => names.add(n));
  }
  const values = new Map<string, Awaited<ReturnType<typeof lookup>>>();
  for (const name of names) {
    values.set(name, await lookup(layers, name, readText));
  }
  const replace = (node: RawNode): RawNode => {
    if (node instanceof RawList) {
      return new RawList(node.items.map(replace), node.source);
    }
    if (node instanceof RawMap) {
      for (const [key, child] of node.entries) {
        node.entries.set(key, replace(child));
      }
      return node;
    }
    const template = templates.get(node);
    if (template === undefined) return node;
    if (!Array.isArray(template)) {
      return new RawScalar(undefined, node.source, template.error);
    }
    const used = varsOf(template);
    const source = used.length === 0
      ? node.source
      : { ...node.source, env: [...new Set(used)].join(", ") };
    const failed = used
      .map((name) => values.get(name))
      .find((found) => found !== undefined && "problem" in found);
    if (failed !== undefined && "problem" in failed) {
      return new RawScalar(undefined, source, failed.problem);
    }
    const rendered = render(template, (name) => {
      const found = values.get(name);
      return found === undefined || "problem" in found
        ? undefined
        : found.value;
    });
    if (rendered.value === undefined) {
      const list = rendered.missing.map((n) => `\${${n}}`).join(", ");
      return new RawScalar(
        undefined,
        source,
        `${list} ${rendered.missing.length === 1 ? "is" : "are"} not set and ${
          rendered.missing.length === 1 ? "has" : "have"
        } no default (set it, or write \${VAR:default})`,
      );
    }
    return new RawScalar(rendered.value, source);
  };
  replace(root);
  return names;
}
