// The pure parts of the README API table generator; no runtime API, so this
// runs under both `deno test` and `bun test`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type ApiEntry,
  collectEntries,
  currentSection,
  type DocOutput,
  escapeCell,
  findSection,
  firstSentence,
  inlineTags,
  primaryKind,
  relativeHref,
  renderRow,
  renderSection,
  replaceSection,
  sortEntries,
} from "./api_table.ts";

describe("firstSentence", () => {
  it("stops at the first sentence end followed by a new sentence", () => {
    assert.equal(
      firstSentence("Creates a logger. It writes JSON lines."),
      "Creates a logger.",
    );
    assert.equal(firstSentence("Is it up? Then say so."), "Is it up?");
  });

  it("joins the lines of the first paragraph, trimmed", () => {
    assert.equal(
      firstSentence("  Exponential backoff\nwith jitter.\n\nMore.\n"),
      "Exponential backoff with jitter.",
    );
    assert.equal(
      firstSentence("No full stop here\n\nSecond paragraph."),
      "No full stop here",
    );
  });

  it("ignores dots in code spans, parentheses, numbers and abbreviations", () => {
    assert.equal(
      firstSentence("Reads `a. B` and (see X. Then Y) 1.5 s. Done."),
      "Reads `a. B` and (see X. Then Y) 1.5 s.",
    );
    assert.equal(
      firstSentence("Caps waits, e.g. Retry-After. Next."),
      "Caps waits, e.g. Retry-After.",
    );
    assert.equal(
      firstSentence("Codes (`A`, `B`, ... on the cause) and more... yes. No."),
      "Codes (`A`, `B`, ... on the cause) and more... yes.",
    );
  });

  it("ends a sentence before a code span", () => {
    assert.equal(
      firstSentence("Runs `fn` with a deadline. `fn` receives a signal."),
      "Runs `fn` with a deadline.",
    );
  });

  it("makes a colon before a list a full stop", () => {
    assert.equal(
      firstSentence("Adapts it to Hono, with the same result:\n- one\n- two"),
      "Adapts it to Hono, with the same result.",
    );
    assert.equal(
      firstSentence("Adapts it to Hono, with the same result:\n\n- one"),
      "Adapts it to Hono, with the same result.",
    );
  });

  it("rewrites inline link tags as markdown", () => {
    assert.equal(
      firstSentence("Creates a {@linkcode CircuitBreaker}. More."),
      "Creates a `CircuitBreaker`.",
    );
    assert.equal(inlineTags("{@link Foo}"), "`Foo`");
    assert.equal(inlineTags("{@link Foo | the foo}"), "`the foo`");
    assert.equal(inlineTags("{@linkplain Foo}"), "Foo");
    assert.equal(
      inlineTags("{@link https://x.dev/a docs}"),
      "[docs](https://x.dev/a)",
    );
    assert.equal(inlineTags("{@link https://x.dev/a}"), "<https://x.dev/a>");
  });

  it("gives an empty string for no doc", () => {
    assert.equal(firstSentence(undefined), "");
    assert.equal(firstSentence("  \n "), "");
  });
});

describe("renderRow", () => {
  const entry: ApiEntry = {
    name: "createLogger",
    kind: "function",
    summary: "Creates a logger.",
    href: "./logger.ts",
  };

  it("links the name to its file", () => {
    assert.equal(
      renderRow(entry),
      "| [`createLogger`](./logger.ts) | function | Creates a logger. |",
    );
  });

  it("escapes pipes, also inside code spans", () => {
    assert.equal(escapeCell("`a | b` or c|d"), "`a \\| b` or c\\|d");
    assert.equal(escapeCell("already \\| escaped"), "already \\| escaped");
    assert.equal(
      renderRow({ ...entry, summary: "`string | number`." }),
      "| [`createLogger`](./logger.ts) | function | `string \\| number`. |",
    );
  });

  it("shows the name alone without a file, and names another entry point", () => {
    assert.equal(
      renderRow({ ...entry, href: undefined }),
      "| `createLogger` | function | Creates a logger. |",
    );
    assert.equal(
      renderRow({ ...entry, entrypoint: "@cqi/http/hono" }),
      "| [`createLogger`](./logger.ts) from `@cqi/http/hono` | function | Creates a logger. |",
    );
  });
});

describe("sortEntries and renderSection", () => {
  const e = (name: string, kind: string, entrypoint?: string): ApiEntry => ({
    name,
    kind,
    summary: `${name}.`,
    ...(entrypoint ? { entrypoint } : {}),
  });

  it("lists values then types, each alphabetically regardless of case", () => {
    const sorted = sortEntries([
      e("Logger", "interface"),
      e("retry", "function"),
      e("LogField", "const"),
      e("accessLog", "function"),
      e("Level", "type"),
      e("Backoff", "class"),
      e("toHono", "function", "@cqi/http/hono"),
      e("HonoContext", "interface", "@cqi/http/hono"),
    ]);
    assert.deepEqual(sorted.map((x) => x.name), [
      "accessLog",
      "Backoff",
      "LogField",
      "retry",
      "Level",
      "Logger",
      "toHono",
      "HonoContext",
    ]);
  });

  it("renders heading, header and rows, ending in one newline", () => {
    assert.equal(
      renderSection([e("b", "function"), e("A", "interface")]),
      [
        "## API",
        "",
        "| Export | Kind | What it is |",
        "| --- | --- | --- |",
        "| `b` | function | b. |",
        "| `A` | interface | A. |",
        "",
      ].join("\n"),
    );
  });
});

describe("replaceSection", () => {
  const section = "## API\n\n| Export | Kind | What it is |\n";

  it("appends a section after one blank line", () => {
    assert.equal(
      replaceSection("# m\n\nText.\n\n\n", section),
      `# m\n\nText.\n\n${section}`,
    );
  });

  it("replaces a trailing section, subsections included", () => {
    const readme = "# m\n\nText.\n\n## API\n\nold\n\n### More\n\nold\n";
    assert.equal(replaceSection(readme, section), `# m\n\nText.\n\n${section}`);
    assert.equal(currentSection(readme), "## API\n\nold\n\n### More\n\nold\n");
  });

  it("is idempotent", () => {
    const once = replaceSection("# m\n", section);
    assert.equal(replaceSection(once, section), once);
  });

  it("refuses an API section that other sections follow", () => {
    const readme = "# m\n\n## API\n\nold\n\n## Behaviour\n\nkept\n";
    assert.throws(() => replaceSection(readme, section), /not the last one/);
    assert.equal(currentSection(readme), undefined);
    assert.deepEqual(findSection(readme), { start: 5, trailing: false });
  });

  it("ignores headings inside code fences", () => {
    const readme =
      "# m\n\n```md\n## API\n```\n\n## API\n\nold\n~~~\n## X\n~~~\n";
    assert.equal(
      replaceSection(readme, section),
      `# m\n\n\`\`\`md\n## API\n\`\`\`\n\n${section}`,
    );
    assert.equal(
      replaceSection("# m\n\n```\n## API\n```\n", section),
      `# m\n\n\`\`\`\n## API\n\`\`\`\n\n${section}`,
    );
  });
});

describe("collectEntries", () => {
  const loc = (file: string) => ({ filename: `file:///repo/${file}` });
  const doc: DocOutput = {
    version: 2,
    nodes: {
      "file:///repo/m/mod.ts": {
        symbols: [
          {
            name: "parse",
            declarations: [
              { kind: "function", location: loc("m/parse.ts") },
              {
                kind: "function",
                location: loc("m/parse.ts"),
                jsDoc: { doc: "Parses. Overload two." },
              },
              {
                kind: "namespace",
                location: loc("m/parse.ts"),
                jsDoc: { doc: "Namespace doc." },
              },
            ],
          },
          {
            name: "LIMITS",
            declarations: [{
              kind: "variable",
              def: { kind: "const" },
              location: loc("m/limits.ts"),
              jsDoc: { doc: "The limits." },
            }],
          },
          {
            name: "Options",
            declarations: [{
              kind: "typeAlias",
              location: loc("m/sub/options.ts"),
            }],
          },
          {
            name: "Logger",
            declarations: [{
              kind: "interface",
              location: loc("logging/logger.ts"),
              jsDoc: { doc: "A logger." },
            }],
          },
        ],
      },
    },
  };

  it("shows merged declarations once, with the first doc found", () => {
    assert.deepEqual(collectEntries(doc, "file:///repo/m/"), [
      {
        name: "parse",
        kind: "function",
        summary: "Parses.",
        href: "./parse.ts",
      },
      {
        name: "LIMITS",
        kind: "const",
        summary: "The limits.",
        href: "./limits.ts",
      },
      {
        name: "Options",
        kind: "type",
        summary: "",
        href: "./sub/options.ts",
      },
      {
        name: "Logger",
        kind: "interface",
        summary: "A logger.",
        href: "../logging/logger.ts",
      },
    ]);
  });

  it("rejects another doc format version", () => {
    assert.throws(
      () => collectEntries({ ...doc, version: 1 }, "file:///repo/m/"),
      /version 1/,
    );
  });

  it("picks the value kind of a merge and makes links relative", () => {
    assert.equal(primaryKind(["namespace", "function"]), "function");
    assert.equal(primaryKind(["interface", "const"]), "const");
    assert.equal(primaryKind(["type", "namespace"]), "namespace");
    assert.equal(
      relativeHref("file:///r/a/", "file:///r/a/b/c.ts"),
      "./b/c.ts",
    );
    assert.equal(relativeHref("file:///r/a/", "file:///r/b/c.ts"), "../b/c.ts");
    assert.equal(relativeHref("file:///r/a/", "npm:/x@1/y.d.ts"), undefined);
  });
});
