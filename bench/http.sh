#!/usr/bin/env bash
# HTTP throughput: bare handler vs CQI stack (recovery + 4 no-op middleware)
# vs a Hono app with 5 no-op middleware, on Deno.serve and Bun.serve, with
# wrk over loopback (the driver and its method are in bench/wrk_rounds.sh);
# then the same handlers' per-request cost in process.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
bash bench/wrk_rounds.sh bench/http_server.ts "bare cqi hono" /

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo
echo "## in-process, ns per request (median of 6 rounds of 200k calls)"
deno run -A bench/http_inprocess.ts >"$out/inproc"
bun run bench/http_inprocess.ts >>"$out/inproc"
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  console.log("| runtime | variant | ns/request | added vs bare |");
  console.log("| --- | --- | ---: | ---: |");
  for (const r of rows) {
    const bare = rows.find((b) => b.runtime === r.runtime && b.variant === "bare").ns_per_request;
    console.log(`| ${r.runtime} | ${r.variant} | ${r.ns_per_request} | ${r.ns_per_request - bare} |`);
  }' "$out/inproc"
