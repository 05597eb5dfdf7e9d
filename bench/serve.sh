#!/usr/bin/env bash
# What CQI's serve costs over the runtime's own server (Deno.serve /
# Bun.serve) for the same "hello" handler: wrk over loopback, alternating
# rounds (bench/wrk_rounds.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash bench/wrk_rounds.sh bench/serve_server.ts "runtime serve" /
