#!/usr/bin/env bash
# Full middleware stack (issue 9): the example service's stack (httpTracing
# with sampler never / always, accessLog, httpMetrics, recovery, apiKey, on
# router) vs the bare handler vs the equivalent Hono stack (hono/logger,
# @hono/prometheus, bearerAuth; without @hono/otel, and with it sampling
# never or always), on Deno.serve and Bun.serve, with wrk over loopback
# (bench/stack_variants.ts; the driver and its method are in
# bench/wrk_rounds.sh).
#
#   ROUNDS=5 DURATION=4s bash bench/stack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
KEY=bench-key-0123456789abcdef0123456789abcdef # stack_variants.ts KEY
ROUNDS=${ROUNDS:-5} bash bench/wrk_rounds.sh bench/stack_server.ts \
  "bare cqi-never cqi-always cqi-json hono hono-otel-never hono-otel" /api/positions/p1 \
  "authorization: Bearer $KEY"
