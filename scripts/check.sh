#!/usr/bin/env bash
# Static checks: format, lint, types (code and doc examples), doc lint, and a
# publish dry run of the umbrella package and every workspace member.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

members=$(node -e 'console.log(require("./deno.json").workspace.map((m) => m.replace(/^\.\//, "")).join(" "))')
entrypoints=$(node -e '
  const entries = ["mod.ts"];
  for (const m of require("./deno.json").workspace) {
    const exp = require(`${m}/deno.json`).exports;
    for (const file of typeof exp === "string" ? [exp] : Object.values(exp)) {
      entries.push(`${m}/${file}`.replace(/^\.\//, "").replace("/./", "/"));
    }
  }
  console.log(entries.join(" "));
')

step() { echo "== $*"; }
step "deno fmt --check"; deno fmt --check
step "deno lint"; deno lint
step "deno check (all sources, tests, examples, benches)"; deno check --quiet .
step "deno check --doc (JSDoc examples)"; deno check --quiet --doc $members mod.ts
step "deno check --doc-only (README examples)"
deno check --quiet --doc-only README.md $(for m in $members; do echo "$m/README.md"; done)
step "deno test --doc (JSDoc examples run)"
sources=$(for m in $members; do ls "$m"/*.ts; done | grep -v '_test\.ts$')
doc_log=$(mktemp)
if ! deno test -A --quiet --doc $sources mod.ts >"$doc_log" 2>&1; then
  cat "$doc_log"
  exit 1
fi
grep -E "passed" "$doc_log" | tail -1
rm -f "$doc_log"
step "deno doc --lint"
# (@types/node, which Deno finds in package.json, makes doc print unresolved-type noise)
deno doc --lint $entrypoints 2>&1 | { grep -v -e "Failed resolving types" -e "@types/node/index.d.ts" || true; }
step "README API tables"; deno run -A scripts/api_table.ts --check
step "versions agree"; node -e '
  const root = require("./deno.json"), jsr = require("./jsr.json");
  if (root.name !== jsr.name || root.version !== jsr.version) {
    console.error(`deno.json (${root.name}@${root.version}) and jsr.json (${jsr.name}@${jsr.version}) disagree`);
    process.exit(1);
  }'
step "deno publish --dry-run @cqi/cqi"; deno publish --quiet --dry-run --allow-dirty
for m in $members; do
  step "deno publish --dry-run $m"
  (cd "$m" && deno publish --quiet --dry-run --allow-dirty)
done
echo "check: all passed"
