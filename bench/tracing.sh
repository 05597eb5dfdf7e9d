#!/usr/bin/env bash
# Per-request cost of tracing middleware (bench/tracing.ts), in process, on
# Deno then Bun. Arguments: requests per round (default 20000), rounds
# (default 7). Prints one Markdown table per runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
REQUESTS=${1:-20000}
ROUNDS=${2:-7}
deno run -A bench/tracing.ts "$REQUESTS" "$ROUNDS" | grep -v '^{'
echo
bun run bench/tracing.ts "$REQUESTS" "$ROUNDS" | grep -v '^{'
