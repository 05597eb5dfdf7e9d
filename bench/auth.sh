#!/usr/bin/env bash
# In-process per-request cost of @cqi/auth vs bare and vs Hono's bearerAuth
# and jwt, on Deno then Bun; prints one Markdown table.
# Env: BENCH_MS (per variant per round, default 500), ROUNDS (default 7).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
deno run -A bench/auth.ts --header
bun run bench/auth.ts
