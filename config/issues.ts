// Turns valibot issues into problems: dotted path, what was expected, what
// was found (never for secrets), and the source of the value. Not exported
// from mod.ts.
import type { ConfigProblem, ConfigSource } from "./error.ts";
import { isSecretPath, type SchemaNode } from "./introspect.ts";

/** The parts of a valibot issue read here. */
export interface IssueLike {
  kind: string;
  type: string;
  message: string;
  expected: string | null;
  received: string;
  input: unknown;
  path?: { key: unknown }[];
  issues?: IssueLike[];
}

// A union (an API key given as a string or a record) that fails on a record
// reports the record's own issues, with full paths, instead of "expected a
// or b".
function expand(issue: IssueLike): IssueLike[] {
  const input = issue.input;
  if (
    issue.type !== "union" || typeof input !== "object" || input === null
  ) return [issue];
  const nested = (issue.issues ?? []).filter((sub) => sub.path?.length);
  if (nested.length === 0) return [issue];
  return nested.flatMap((sub) =>
    expand({ ...sub, path: [...(issue.path ?? []), ...sub.path!] })
  );
}

/** Converts issues to problems, skipping paths that already have one. */
export function issueProblems(
  schema: SchemaNode,
  issues: readonly IssueLike[],
  sources: ReadonlyMap<string, ConfigSource>,
  requiredHint: (path: readonly string[]) => string,
  reported: ReadonlySet<string>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues.flatMap(expand)) {
    const keys = (issue.path ?? []).map((item) =>
      typeof item.key === "number" ? item.key : String(item.key)
    );
    const path = keys.join(".");
    if (reported.has(path)) continue;
    const missing = issue.input === undefined;
    let message: string;
    if (missing) {
      message = `required; ${requiredHint(keys.map(String))}`;
    } else {
      message = issue.message.startsWith("Invalid ")
        ? `expected ${issue.expected}`
        : issue.message;
      // A cross-field check failing on a mapping has nothing useful to show.
      const whole = issue.kind !== "schema" && typeof issue.input === "object";
      if (!whole && !isSecretPath(schema, keys)) {
        message += `, got ${issue.received}`;
      }
    }
    problems.push({ path, message, source: nearestSource(sources, keys) });
  }
  return problems;
}

function nearestSource(
  sources: ReadonlyMap<string, ConfigSource>,
  keys: readonly (string | number)[],
): ConfigSource | undefined {
  for (let n = keys.length; n > 0; n--) {
    const source = sources.get(keys.slice(0, n).join("."));
    if (source !== undefined) return source;
  }
  return undefined;
}
