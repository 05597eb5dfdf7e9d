#!/usr/bin/env bash
# Runs every benchmark, one after another (each alternates its variants in
# rounds); each prints Markdown tables for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PWD/../node_modules/.bin:$PATH"
bash http.sh
echo
echo "# serve vs the runtime's own server"
bash serve.sh
for runtime in "deno run -A" "bun run"; do
  echo
  echo "# logging ($runtime)"
  $runtime logging.ts
done
echo
echo "# metrics"
deno run -A metrics.ts
echo
echo "# tracing"
bash tracing.sh
echo
echo "# auth"
bash auth.sh
echo
echo "# full middleware stack"
bash stack.sh
echo
echo "# the full example path"
bash stack_full.sh
for runtime in "deno run -A" "bun run"; do
  echo
  echo "# database ($runtime)"
  $runtime database.ts
done
for runtime in "deno run -A" "bun run"; do
  echo
  echo "# cache ($runtime)"
  $runtime cache.ts
done
for runtime in "deno run -A" "bun run"; do
  echo
  echo "# bus ($runtime)"
  $runtime bus.ts
done
for runtime in "deno run -A" "bun run"; do
  echo
  echo "# grpc ($runtime)"
  $runtime grpc.ts
done
for runtime in "deno run -A" "bun run"; do
  echo
  echo "# httpclient ($runtime)"
  $runtime httpclient.ts
done
