/**
 * Generates the `## API` table that ends every module README: each export of
 * the module's entry points (from `deno doc --json`), its kind, and the first
 * sentence of its JSDoc, linked to the file that declares it.
 *
 * ```sh
 * deno run -A scripts/api_table.ts [module...]          # print the sections
 * deno run -A scripts/api_table.ts --write [module...]  # update the READMEs
 * deno run -A scripts/api_table.ts --check [module...]  # exit 1 on drift
 * ```
 *
 * Without modules: every workspace member of the root `deno.json`. The pure
 * functions (everything but {@linkcode main}) use no runtime API, so the test
 * runs under Bun as well as Deno.
 *
 * @module
 */

/** The section heading the table lives under. */
export const HEADING = "## API";

/** One exported symbol, as the table shows it. */
export interface ApiEntry {
  /** The exported name. */
  name: string;
  /** `function`, `class`, `const`, `enum`, `namespace`, `interface`, `type`… */
  kind: string;
  /** The first sentence of the JSDoc, as markdown; `""` when undocumented. */
  summary: string;
  /** Link target relative to the module folder (`./logger.ts`), if a file. */
  href?: string;
  /** The import specifier when not the module's main entry (`@cqi/http/hono`). */
  entrypoint?: string;
}

/** The part of a `deno doc --json` (format version 2) declaration used here. */
export interface DocDeclaration {
  kind: string;
  location?: { filename: string };
  declarationKind?: string;
  jsDoc?: { doc?: string };
  def?: { kind?: string };
}

/** The part of a `deno doc --json` (format version 2) symbol used here. */
export interface DocSymbol {
  name: string;
  declarations: DocDeclaration[];
}

/** The part of `deno doc --json` (format version 2) output used here. */
export interface DocOutput {
  version: number;
  nodes: Record<string, { symbols?: DocSymbol[] }>;
}

/** Kinds that are values (called, constructed or read at run time). */
const VALUE_KINDS = ["class", "function", "enum", "const", "let", "var"];
/** Order in which a merged symbol's kinds are preferred for its label. */
const KIND_PRIORITY = [
  "class",
  "function",
  "enum",
  "const",
  "let",
  "var",
  "namespace",
  "interface",
  "type",
];

/** The table label of one declaration: `typeAlias` → `type`, `variable` → `const`. */
export function kindLabel(decl: DocDeclaration): string {
  switch (decl.kind) {
    case "typeAlias":
      return "type";
    case "variable":
      return decl.def?.kind ?? "const";
    default:
      return decl.kind;
  }
}

/**
 * The one kind shown for a symbol with several declarations (overloads, a
 * function merged with a namespace, a const with a type of the same name):
 * the value wins over the namespace, the namespace over the type.
 */
export function primaryKind(kinds: readonly string[]): string {
  const ranked = [...new Set(kinds)].sort((a, b) => rank(a) - rank(b));
  return ranked[0] ?? "unknown";
}

function rank(kind: string): number {
  const i = KIND_PRIORITY.indexOf(kind);
  return i === -1 ? KIND_PRIORITY.length : i;
}

/** Whether a kind is a value (listed first) rather than a type. */
export function isValueKind(kind: string): boolean {
  return VALUE_KINDS.includes(kind) || kind === "namespace";
}

/**
 * Rewrites JSDoc inline tags as markdown: `{@linkcode X}` and `{@link X}` (a
 * symbol) become `` `X` ``, a link to a URL becomes `[text](url)` or `<url>`.
 */
export function inlineTags(doc: string): string {
  return doc.replace(
    /\{@(link|linkcode|linkplain)\s+([^\s|}]+)(?:\s*\|\s*|\s+)?([^}]*)\}/g,
    (_m, tag: string, target: string, text: string) => {
      const label = text.trim();
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
        return label ? `[${label}](${target})` : `<${target}>`;
      }
      const shown = label || target;
      return tag === "linkplain" ? shown : `\`${shown}\``;
    },
  );
}

/** A line that starts a list, code fence, heading or quote, ending a paragraph. */
const BLOCK_START = /^\s*(?:[-*+]\s|\d+[.)]\s|```|~~~|#{1,6}\s|>)/;

const ABBREVIATIONS = /(?:^|[\s(])(?:e\.g|i\.e|etc|vs|cf|approx|incl)\.$/i;

/**
 * The first sentence of a JSDoc comment: its first paragraph (up to a blank
 * line, list, fence or heading) up to the first
 * `.`, `!` or `?` that ends the paragraph or is followed by a space and no
 * lowercase letter (so not `e.g. x` or `... y`), outside code spans and
 * parentheses; else the whole paragraph, a final `:` (before a list) made a
 * `.`. Line breaks become spaces, inline tags markdown (see
 * {@linkcode inlineTags}).
 */
export function firstSentence(doc: string | undefined): string {
  if (!doc) return "";
  const lines: string[] = [];
  for (const line of inlineTags(doc.trim()).split("\n")) {
    if (!line.trim() || (lines.length > 0 && BLOCK_START.test(line))) break;
    lines.push(line);
  }
  const text = lines.join(" ").replace(/\s+/g, " ").trim();
  let inCode = false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "`") inCode = !inCode;
    if (inCode) continue;
    if (c === "(" || c === "[") depth++;
    else if ((c === ")" || c === "]") && depth > 0) depth--;
    else if (
      depth === 0 && (c === "." || c === "!" || c === "?") &&
      (i + 1 === text.length ||
        (text[i + 1] === " " && !/[a-z]/.test(text[i + 2] ?? ""))) &&
      !ABBREVIATIONS.test(text.slice(0, i + 1))
    ) {
      return text.slice(0, i + 1);
    }
  }
  return text.endsWith(":") ? `${text.slice(0, -1)}.` : text;
}

/** Escapes what would break a table cell: `|` (also inside code spans, as GFM requires). */
export function escapeCell(text: string): string {
  return text.replace(/\\?\|/g, "\\|");
}

/**
 * A link target for `fileUrl` relative to the module folder `moduleDirUrl`
 * (which ends with `/`): `./logger.ts`, or `../logging/logger.ts` for a
 * re-export from a sibling module; `undefined` for a non-file URL.
 */
export function relativeHref(
  moduleDirUrl: string,
  fileUrl: string,
): string | undefined {
  if (!fileUrl.startsWith("file://")) return undefined;
  const from = new URL(moduleDirUrl).pathname.split("/").slice(0, -1);
  const to = new URL(fileUrl).pathname.split("/");
  let common = 0;
  while (
    common < from.length && common < to.length - 1 &&
    from[common] === to[common]
  ) common++;
  const up = from.length - common;
  const rest = to.slice(common).join("/");
  return up === 0 ? `./${rest}` : `${"../".repeat(up)}${rest}`;
}

/**
 * The entries of one entry point's `deno doc --json` output, one per name:
 * overloads and merged declarations show once, with the first JSDoc found.
 */
export function collectEntries(
  doc: DocOutput,
  moduleDirUrl: string,
  entrypoint?: string,
): ApiEntry[] {
  if (doc.version !== 2) {
    throw new Error(
      `deno doc --json gave format version ${doc.version}; this script reads version 2`,
    );
  }
  const byName = new Map<string, DocDeclaration[]>();
  for (const node of Object.values(doc.nodes)) {
    for (const symbol of node.symbols ?? []) {
      const decls = symbol.declarations.filter((d) =>
        d.declarationKind !== "private" && d.kind !== "import"
      );
      if (decls.length === 0) continue;
      byName.set(symbol.name, [...(byName.get(symbol.name) ?? []), ...decls]);
    }
  }
  const entries: ApiEntry[] = [];
  for (const [name, decls] of byName) {
    const kind = primaryKind(decls.map(kindLabel));
    const main = decls.find((d) => kindLabel(d) === kind) ?? decls[0];
    const documented = [main, ...decls].find((d) => d.jsDoc?.doc?.trim());
    const file = main.location?.filename;
    entries.push({
      name,
      kind,
      summary: firstSentence(documented?.jsDoc?.doc),
      href: file ? relativeHref(moduleDirUrl, file) : undefined,
      ...(entrypoint ? { entrypoint } : {}),
    });
  }
  return entries;
}

function byName(a: string, b: string): number {
  const x = a.toLowerCase(), y = b.toLowerCase();
  if (x !== y) return x < y ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The table order: the main entry point's values (functions, classes,
 * consts) alphabetically, then its types alphabetically, then the same for
 * each further entry point in the order given.
 */
export function sortEntries(entries: readonly ApiEntry[]): ApiEntry[] {
  const points = [...new Set(entries.map((e) => e.entrypoint ?? ""))];
  const order = (e: ApiEntry) => points.indexOf(e.entrypoint ?? "");
  return [...entries].sort((a, b) =>
    order(a) - order(b) ||
    Number(!isValueKind(a.kind)) - Number(!isValueKind(b.kind)) ||
    byName(a.name, b.name)
  );
}

/** One table row: `` | [`name`](./file.ts) | kind | First sentence. | ``. */
export function renderRow(entry: ApiEntry): string {
  const code = `\`${entry.name}\``;
  let name = entry.href ? `[${code}](${entry.href})` : code;
  if (entry.entrypoint) name += ` from \`${entry.entrypoint}\``;
  return `| ${escapeCell(name)} | ${entry.kind} | ${
    escapeCell(entry.summary)
  } |`;
}

/** The whole section, heading to final newline, rows in table order. */
export function renderSection(entries: readonly ApiEntry[]): string {
  return [
    HEADING,
    "",
    "| Export | Kind | What it is |",
    "| --- | --- | --- |",
    ...sortEntries(entries).map(renderRow),
    "",
  ].join("\n");
}

/** Where a README's `## API` section starts, and whether it runs to the end. */
export interface SectionLocation {
  /** Character offset of the heading line, or -1 when there is none. */
  start: number;
  /** Whether no other `#`/`##` heading follows it (it is the trailing section). */
  trailing: boolean;
}

/** Finds the `## API` heading outside code fences (the last one, if several). */
export function findSection(readme: string): SectionLocation {
  let fence: string | undefined;
  let offset = 0;
  let start = -1;
  let trailing = true;
  for (const line of readme.split("\n")) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (
        marker && marker[0] === fence[0] && marker.length >= fence.length &&
        line.trim() === marker
      ) fence = undefined;
    } else if (marker) {
      fence = marker;
    } else if (line.trimEnd() === HEADING) {
      start = offset;
      trailing = true;
    } else if (start !== -1 && /^#{1,2}\s/.test(line)) {
      trailing = false;
    }
    offset += line.length + 1;
  }
  return { start, trailing };
}

/** The README's current `## API` section (heading to end), or `undefined`. */
export function currentSection(readme: string): string | undefined {
  const { start, trailing } = findSection(readme);
  return start === -1 || !trailing ? undefined : readme.slice(start);
}

/**
 * The README with `section` as its end: a trailing `## API` section is
 * replaced, else the section is appended after one blank line. Throws when
 * the README has an `## API` section that other sections follow, which only a
 * person can move.
 */
export function replaceSection(readme: string, section: string): string {
  const { start, trailing } = findSection(readme);
  if (start !== -1 && !trailing) {
    throw new Error(
      `its "${HEADING}" section is not the last one; move or remove it first`,
    );
  }
  const before = (start === -1 ? readme : readme.slice(0, start)).trimEnd();
  const body = section.endsWith("\n") ? section : `${section}\n`;
  return before ? `${before}\n\n${body}` : body;
}

// ---- Deno-only from here: only main() and what it calls touch Deno. ----

const ROOT = new URL("../", import.meta.url);

async function run(args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { success, stdout, stderr } = await child.output();
  if (!success) {
    throw new Error(
      `deno ${args.join(" ")} failed:\n${new TextDecoder().decode(stderr)}`,
    );
  }
  return new TextDecoder().decode(stdout);
}

/** The module's entry points: `[file, specifier or undefined for "."]`. */
async function entrypoints(
  module: string,
): Promise<Array<[string, string | undefined]>> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL(`${module}/deno.json`, ROOT)),
  );
  const exports: Record<string, string> = typeof config.exports === "string"
    ? { ".": config.exports }
    : config.exports ?? { ".": "./mod.ts" };
  return Object.entries(exports).map(([key, file]) => [
    new URL(file, new URL(`${module}/`, ROOT)).pathname,
    key === "." ? undefined : `${config.name}${key.slice(1)}`,
  ]);
}

/** Every entry of a module: its main entry point's, then any others'. */
export async function moduleEntries(module: string): Promise<ApiEntry[]> {
  const dir = new URL(`${module}/`, ROOT).href;
  const entries: ApiEntry[] = [];
  for (const [file, specifier] of await entrypoints(module)) {
    const doc = JSON.parse(await run(["doc", "--json", file])) as DocOutput;
    entries.push(...collectEntries(doc, dir, specifier));
  }
  return entries;
}

/** The section as `deno fmt` would leave it in the README (tables padded). */
async function formatted(section: string): Promise<string> {
  return await run(["fmt", "--ext=md", "-"], section);
}

async function workspace(): Promise<string[]> {
  const root = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  return (root.workspace as string[]).map((m) => m.replace(/^\.\/|\/$/g, ""));
}

/** The command line: see the module doc. Returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const flags = args.filter((a) => a.startsWith("-"));
  const unknown = flags.filter((f) => f !== "--write" && f !== "--check");
  if (unknown.length > 0 || flags.length > 1) {
    console.error(
      "usage: deno run -A scripts/api_table.ts [--write | --check] [module...]",
    );
    return 2;
  }
  const mode = flags[0] ?? "--print";
  const all = await workspace();
  const named = args.filter((a) => !a.startsWith("-")).map((m) =>
    m.replace(/\/$/, "")
  );
  const missing = named.filter((m) => !all.includes(m));
  if (missing.length > 0) {
    console.error(`not a workspace module: ${missing.join(", ")}`);
    return 2;
  }
  const modules = named.length > 0 ? named : all;
  const stale: string[] = [];
  let failed = false;
  for (const module of modules) {
    let entries: ApiEntry[];
    try {
      entries = await moduleEntries(module);
    } catch (error) {
      console.error(`${module}: ${(error as Error).message}`);
      failed = true;
      continue;
    }
    for (const e of entries.filter((e) => !e.summary)) {
      console.error(`${module}: ${e.name} has no JSDoc summary`);
    }
    const section = await formatted(renderSection(entries));
    const path = new URL(`${module}/README.md`, ROOT);
    const readmeName = `${module}/README.md`;
    if (mode === "--print") {
      console.log(`<!-- ${readmeName} (${entries.length} exports) -->`);
      console.log(section);
      continue;
    }
    const readme = await Deno.readTextFile(path);
    if (mode === "--check") {
      const current = currentSection(readme);
      if (current === undefined) {
        stale.push(
          findSection(readme).start === -1
            ? `${readmeName}: no ${HEADING} section at the end`
            : `${readmeName}: its ${HEADING} section is not the last one`,
        );
      } else if (current !== section) {
        stale.push(`${readmeName}: ${HEADING} differs from the code`);
      }
      continue;
    }
    try {
      const next = replaceSection(readme, section);
      if (next !== readme) {
        await Deno.writeTextFile(path, next);
        console.log(`wrote ${readmeName} (${entries.length} exports)`);
      } else {
        console.log(`${readmeName} up to date`);
      }
    } catch (error) {
      console.error(`${readmeName}: ${(error as Error).message}`);
      failed = true;
    }
  }
  if (stale.length > 0) {
    console.error(stale.join("\n"));
    console.error(
      "regenerate with: deno run -A scripts/api_table.ts --write",
    );
    return 1;
  }
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
