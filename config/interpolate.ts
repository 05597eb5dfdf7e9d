// `${VAR}` and `${VAR:default}` in config file values. `$${` is a literal
// `${`. A default is used when the variable is unset or empty; it runs to
// the first `}` and may contain `:` (`${BROKER:localhost:9092}`). Not
// exported from mod.ts.
import { type EnvLayer, lookup } from "./env.ts";
import type { Raw } from "./raw.ts";

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

/**
 * Fills in the `${VAR}`s of every text in `root` (the config file) from the
 * environment layers. A text that cannot be completed gets a problem instead
 * of a value; it is dropped if the environment sets that field. Returns the
 * variables read.
 */
export async function interpolate(
  root: Raw,
  layers: readonly EnvLayer[],
): Promise<Set<string>> {
  const templates = new Map<Raw, Template | { error: string }>();
  const collect = (node: Raw) => {
    if (node.value instanceof Map) node.value.forEach(collect);
    else if (Array.isArray(node.value)) node.value.forEach(collect);
    else if (node.value?.includes("$")) {
      templates.set(node, parseTemplate(node.value));
    }
  };
  collect(root);
  const names = new Set<string>();
  for (const t of templates.values()) {
    if (Array.isArray(t)) varsOf(t).forEach((name) => names.add(name));
  }
  const found = new Map<string, Raw | undefined>();
  for (const name of names) found.set(name, await lookup(layers, name));
  for (const [node, template] of templates) {
    if (!Array.isArray(template)) {
      Object.assign(node, { value: null, problem: template.error });
      continue;
    }
    const used = [...new Set(varsOf(template))];
    if (used.length > 0) node.source = { ...node.source, env: used.join(", ") };
    const failed = used.map((n) => found.get(n)?.problem).find((p) => p);
    const rendered = render(template, (name) => {
      const value = found.get(name);
      return value?.problem === undefined ? value?.value as string : undefined;
    });
    if (failed !== undefined || rendered.value === undefined) {
      const n = rendered.missing.length;
      const list = rendered.missing.map((name) => `\${${name}}`).join(", ");
      node.value = null;
      node.problem = failed ??
        `${list} ${n === 1 ? "is" : "are"} not set and ${
          n === 1 ? "has" : "have"
        } no default (set it, or write \${VAR:default})`;
    } else node.value = rendered.value;
  }
  return names;
}
