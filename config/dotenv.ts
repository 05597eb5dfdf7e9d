// The `.env` syntax: `KEY=value` lines, `export ` prefixes, `#` comments,
// single quotes (literal), double quotes (escapes, may span lines). Not
// exported from mod.ts. Problems name the line, never the value.

/** One variable of a `.env` file. */
export interface DotenvEntry {
  /** The variable name. */
  key: string;
  /** Its value. */
  value: string;
  /** 1-based line of the key. */
  line: number;
}

/** A line that could not be parsed. */
export interface DotenvProblem {
  /** 1-based line. */
  line: number;
  /** What is wrong. */
  message: string;
}

const KEY = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*/;
const ESCAPES: Readonly<Record<string, string>> = {
  n: "\n",
  r: "\r",
  t: "\t",
  '"': '"',
  "\\": "\\",
  $: "$",
};

/** Parses the text of a `.env` file. Later keys win over earlier ones. */
export function parseDotenv(
  text: string,
): { entries: DotenvEntry[]; problems: DotenvProblem[] } {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const entries: DotenvEntry[] = [];
  const problems: DotenvProblem[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const trimmed = lines[i].trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const match = KEY.exec(trimmed);
    if (match === null) {
      problems.push({ line, message: "expected KEY=value" });
      continue;
    }
    const key = match[1];
    let rest = trimmed.slice(match[0].length);
    const quote = rest[0];
    if (quote !== '"' && quote !== "'") {
      const comment = rest.search(/\s#/);
      if (comment >= 0) rest = rest.slice(0, comment);
      entries.push({ key, value: rest.trimEnd(), line });
      continue;
    }
    // A quoted value may continue on the following lines.
    let body = rest.slice(1);
    let end = closingQuote(body, quote);
    while (end < 0 && i + 1 < lines.length) {
      body += "\n" + lines[++i];
      end = closingQuote(body, quote);
    }
    if (end < 0) {
      problems.push({ line, message: `unterminated ${quote} quote` });
      continue;
    }
    const after = body.slice(end + 1).trim();
    if (after !== "" && !after.startsWith("#")) {
      problems.push({
        line,
        message: "unexpected text after the closing quote",
      });
      continue;
    }
    const raw = body.slice(0, end);
    const value = quote === "'"
      ? raw
      : raw.replace(/\\(.)/g, (all, c: string) => ESCAPES[c] ?? all);
    entries.push({ key, value, line });
  }
  return { entries, problems };
}

function closingQuote(text: string, quote: string): number {
  for (let i = 0; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") {
      i++;
      continue;
    }
    if (text[i] === quote) return i;
  }
  return -1;
}
