#!/usr/bin/env bash
# Line coverage per module from `deno test --coverage`; fails when a module
# is under the bar (90% of lines). Code run only in child processes is not
# counted.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
BAR=${COVERAGE_BAR:-90}
rm -rf coverage
deno test -A --quiet --coverage=coverage/raw >/dev/null
deno coverage coverage/raw --lcov --output=coverage/lcov.info \
  --exclude='(_test\.ts|/testdata/|/tests/|/examples/|/bench/|/node_modules/)' >/dev/null
node -e '
  const bar = Number(process.argv[2]);
  const modules = {};
  let file;
  for (const line of require("fs").readFileSync("coverage/lcov.info", "utf8").split("\n")) {
    if (line.startsWith("SF:")) file = line.slice(3).replace(process.cwd() + "/", "");
    const m = /^(LH|LF):(\d+)/.exec(line);
    if (m && file) {
      const mod = file.includes("/") ? file.split("/")[0] : "(root)";
      modules[mod] ??= { LH: 0, LF: 0 };
      modules[mod][m[1]] += Number(m[2]);
    }
  }
  let failed = false;
  console.log("| module | lines covered | % |");
  console.log("| --- | ---: | ---: |");
  for (const [mod, { LH, LF }] of Object.entries(modules).sort()) {
    const pct = LF ? (100 * LH) / LF : 100;
    if (pct < bar) failed = true;
    console.log(`| ${mod} | ${LH}/${LF} | ${pct.toFixed(1)}${pct < bar ? " (under " + bar + "%)" : ""} |`);
  }
  if (failed) process.exit(1);
' "$BAR"
