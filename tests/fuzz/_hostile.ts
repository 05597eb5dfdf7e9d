// Generators of hostile input shared by the fuzz suites (issue 20): a valid
// sample with a few random edits, whatever a client can put in a header,
// and strings from every part of Unicode (lone surrogates included).
import fc from "fast-check";

/** Properties run this many cases each (issue 20: at least 10^5). */
export const RUNS = 100_000;

/** Time one property may take before the runner gives up on it. */
export const TIMEOUT = 300_000;

/** Characters that separate or escape things in the grammars fuzzed here. */
const STRUCTURAL = [..."-,;=:/\\.%@ \t\"'{}[]()<>?#&+*~_!$|^`0aFz9"];

/** One Latin-1 character a `Headers` value may hold (no NUL, CR or LF). */
export const headerChar: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...STRUCTURAL),
  fc.integer({ min: 1, max: 255 })
    .filter((c) => c !== 10 && c !== 13)
    .map((c) => String.fromCharCode(c)),
);

/** Any UTF-16 code unit, lone surrogates and controls included. */
export const anyChar: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    ...STRUCTURAL,
    "\0",
    "\n",
    "\r",
    "\u2028",
    "\ufeff",
    "\ud800",
  ),
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
);

interface Edit {
  at: number;
  op: "insert" | "delete" | "replace" | "repeat" | "cut";
  text: string;
}

/** Applies random edits (insert, delete, replace, repeat, cut) to a sample. */
export function mutated(
  samples: fc.Arbitrary<string>,
  char: fc.Arbitrary<string> = anyChar,
  maxEdits = 4,
): fc.Arbitrary<string> {
  const edit: fc.Arbitrary<Edit> = fc.record({
    at: fc.nat(),
    op: fc.constantFrom("insert", "delete", "replace", "repeat", "cut"),
    text: fc.string({ unit: char, minLength: 1, maxLength: 3 }),
  });
  return fc.tuple(samples, fc.array(edit, { maxLength: maxEdits })).map(
    ([sample, edits]) => {
      let s = sample;
      for (const { at, op, text } of edits) {
        const i = s.length === 0 ? 0 : at % (s.length + 1);
        switch (op) {
          case "insert":
            s = s.slice(0, i) + text + s.slice(i);
            break;
          case "delete":
            s = s.slice(0, i) + s.slice(i + text.length);
            break;
          case "replace":
            s = s.slice(0, i) + text + s.slice(i + text.length);
            break;
          case "repeat":
            s = s.slice(0, i) + s.slice(i).repeat(2);
            break;
          case "cut":
            s = s.slice(0, i);
            break;
        }
      }
      return s;
    },
  );
}

/** A string a client may send as a header value (Latin-1, no NUL/CR/LF). */
export function headerValue(
  ...samples: string[]
): fc.Arbitrary<string> {
  const sample = samples.length === 0
    ? fc.constant("")
    : fc.constantFrom(...samples);
  return fc.oneof(
    { weight: 3, arbitrary: mutated(sample, headerChar) },
    { weight: 1, arbitrary: fc.string({ unit: headerChar, maxLength: 80 }) },
    { weight: 1, arbitrary: sample },
  );
}

/** Any string, often near one of the samples. */
export function hostileString(...samples: string[]): fc.Arbitrary<string> {
  const sample = samples.length === 0
    ? fc.constant("")
    : fc.constantFrom(...samples);
  return fc.oneof(
    { weight: 3, arbitrary: mutated(sample) },
    { weight: 1, arbitrary: fc.string({ unit: anyChar, maxLength: 80 }) },
    { weight: 1, arbitrary: sample },
  );
}

/** Status and `code` of an error response, checked to be a client error. */
export async function assertClientError(
  res: Response,
  statuses: readonly number[],
): Promise<string> {
  const text = await res.text();
  if (!statuses.includes(res.status)) {
    throw new Error(
      `status ${res.status}, expected one of ${statuses}: ${text}`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(
      `status ${res.status} with a body that is not JSON: ${text}`,
    );
  }
  const code = (body as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || code === "") {
    throw new Error(`status ${res.status} without a code: ${text}`);
  }
  return code;
}

/** Keeps what a `Headers` value can hold: Latin-1, no NUL, CR or LF. */
export function latin1(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/[^\x01-\x09\x0b\x0c\x0e-\xff]/g, "?");
}
