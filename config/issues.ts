// Validation issues as problems: the dotted path, what was expected, what
// was found (never for secrets), the source of the value, and for a missing
// field where to set it. Not exported from mod.ts.
import type { ConfigProblem, ConfigSource } from "./error.ts";
import { type Field, isSecretAt } from "./fields.ts";
import type { Issue, Shape } from "./valibot_adapter.ts";

/** Converts issues to problems, skipping paths that already have one. */
export function issueProblems(
  issues: readonly Issue[],
  root: Shape,
  fields: readonly Field[],
  sources: ReadonlyMap<string, ConfigSource>,
  reported: ReadonlySet<string>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.join(".");
    if (reported.has(path)) continue;
    let message = issue.message;
    if (issue.missing) {
      message = `required; ${requiredHint(fields, issue.path.map(String))}`;
    } else if (
      issue.received !== undefined && !isSecretAt(root, issue.path)
    ) {
      message += `, got ${issue.received}`;
    }
    let source: ConfigSource | undefined;
    for (let n = issue.path.length; n > 0 && !source; n--) {
      source = sources.get(issue.path.slice(0, n).join("."));
    }
    problems.push({ path, message, source });
  }
  return problems;
}

// "set CQI_DATABASE_HOST or database.host in the config file" for a missing
// field or section, listing the required fields under it.
function requiredHint(fields: readonly Field[], path: string[]): string {
  const under = fields.filter((field) =>
    field.required && path.every((key, i) => field.path[i] === key)
  );
  if (under.length === 0) return "set it in the config file";
  const env = under.map((field) => field.envKey).join(", ");
  const file = under.map((field) => field.fileKey).join(", ");
  return `set ${env} or ${file} in the config file`;
}
