// Finds the first syntax error of a JSON text and where it is. The runtimes'
// `JSON.parse` messages differ (V8 quotes the text, which may hold secrets;
// JavaScriptCore gives no position), so the loader checks JSON with this
// scanner and reports its own message and offset. Not exported from mod.ts.

/** A JSON syntax error: what was expected, at which 0-based offset. */
export interface JsonSyntaxError {
  /** What was expected. */
  message: string;
  /** Offset into the text. */
  offset: number;
}

class Stop extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// Deeper nesting is reported instead of scanned (the config file's limit).
const MAX_DEPTH = 64;
const LITERALS = ["true", "false", "null"];

/** Returns the first syntax error of `text`, or `undefined` when it is valid JSON. */
export function jsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  let depth = 0;
  const fail = (message: string, at = i): never => {
    throw new Stop(at, message);
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const string = () => {
    const start = i++;
    while (i < text.length && text[i] !== '"') {
      const code = text.charCodeAt(i);
      if (code < 0x20) fail("control character in string (escape it)");
      if (text[i] === "\\") {
        const escape = text[i + 1];
        if (escape === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            fail("expected four hex digits after \\u");
          }
          i += 6;
          continue;
        }
        if (escape === undefined || !'"\\/bfnrt'.includes(escape)) {
          fail("invalid escape in string");
        }
        i += 2;
        continue;
      }
      i++;
    }
    if (i >= text.length) fail("unterminated string", start);
    i++;
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === "{") {
      return members("}", () => {
        if (text[i] !== '"') fail('expected a "quoted" key');
        string();
        space();
        if (text[i] !== ":") fail("expected ':' after the key");
        i++;
        value();
      });
    }
    if (c === "[") return members("]", value);
    if (c === '"') return string();
    NUMBER.lastIndex = i;
    if (NUMBER.test(text)) {
      i = NUMBER.lastIndex;
      return;
    }
    for (const literal of LITERALS) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    fail(i >= text.length ? "unexpected end of file" : "expected a value");
  };
  const members = (close: string, member: () => void) => {
    if (++depth > MAX_DEPTH) fail("nested too deeply");
    i++;
    space();
    if (text[i] === close) {
      i++;
      depth--;
      return;
    }
    for (;;) {
      space();
      member();
      space();
      if (text[i] === ",") {
        i++;
        space();
        if (text[i] === close) fail(`trailing comma before '${close}'`);
        continue;
      }
      if (text[i] === close) {
        i++;
        depth--;
        return;
      }
      fail(`expected ',' or '${close}'`);
    }
  };
  try {
    value();
    space();
    if (i < text.length) fail("unexpected text after the JSON value");
    return undefined;
  } catch (error) {
    if (error instanceof Stop) {
      return { message: error.message, offset: error.offset };
    }
    throw error;
  }
}
