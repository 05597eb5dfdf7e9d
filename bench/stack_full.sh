#!/usr/bin/env bash
# The full example path (issue 20): GET /api/positions/p1 through the
# quickstart's own app, store and stack, auth → cache hit and auth → cache
# miss → database, on embedded (memory://, PGlite) and real (Redis,
# PostgreSQL) backends, against the bare handler and the Hono equivalent, on
# Deno.serve and Bun.serve, with wrk over loopback, all in one run
# (bench/stack_full_server.ts says what each variant does; the driver and its
# method are in bench/wrk_rounds.sh). Prints, per runtime, each variant's
# req/s and its ratio to bare and to its Hono equivalent, each taken within a
# round (median, min–max over rounds).
#
#   ROUNDS=5 DURATION=4s bash bench/stack_full.sh
#
# Needs Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379) and
# PostgreSQL; the database BENCH_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/cqi_bench) is created when missing, so
# that the quickstart's tables stay out of the test database.
set -euo pipefail
cd "$(dirname "$0")/.."
KEY=bench-key-0123456789abcdef0123456789abcdef # stack_variants.ts KEY
VARIANTS="bare cqi-hit-embedded hono-hit-embedded cqi-miss-embedded hono-miss-embedded cqi-hit-real hono-hit-real cqi-miss-real hono-miss-real"
export BENCH_DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/cqi_bench}
db=${BENCH_DATABASE_URL##*/}
db=${db%%\?*}
admin=${BENCH_DATABASE_URL%/*}/postgres
if [ "$(psql "$admin" -Atc "select 1 from pg_database where datname = '$db'")" != 1 ]; then
  psql "$admin" -qc "create database \"$db\""
fi
results=$(mktemp)
trap 'rm -f "$results"' EXIT
RESULTS=$results ROUNDS=${ROUNDS:-5} bash bench/wrk_rounds.sh bench/stack_full_server.ts \
  "$VARIANTS" /api/positions/p1 "authorization: Bearer $KEY" | sed -n '1p;/^WARNING/p'
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").slice(1).map((l) => l.split(" "));
  const variants = process.argv[2].split(" ");
  const med = (xs) => { xs = [...xs].sort((a, b) => a - b); return xs[xs.length >> 1]; };
  const pct = (x) => x.toFixed(1) + "%";
  for (const rt of ["deno", "bun"].filter((rt) => rows.some((r) => r[0] === rt))) {
    const of = (v) => rows.filter((r) => r[0] === rt && r[1] === v);
    const versus = (v, base) => {
      const b = Object.fromEntries(of(base).map((r) => [r[2], Number(r[3])]));
      const ratios = of(v).map((r) => Number(r[3]) / b[r[2]] * 100);
      return `${pct(med(ratios))} (${pct(Math.min(...ratios))}–${pct(Math.max(...ratios))})`;
    };
    console.log();
    console.log(`### ${rt}`);
    console.log("| backend | path | variant | req/s (median) | vs bare, same round | vs Hono equivalent, same round | p99 ms (median) |");
    console.log("| --- | --- | --- | ---: | ---: | ---: | ---: |");
    for (const v of variants) {
      const [who, path, backend] = v === "bare" ? ["bare", "—", "—"] : v.split("-");
      const hono = who === "cqi" ? versus(v, `hono-${path}-${backend}`) : "";
      const rps = Math.round(med(of(v).map((r) => Number(r[3]))));
      const p99 = med(of(v).map((r) => Number(r[4]))).toFixed(2);
      console.log(`| ${backend} | ${path} | ${who} | ${rps} | ${v === "bare" ? "100%" : versus(v, "bare")} | ${hono} | ${p99} |`);
    }
  }' "$results" "$VARIANTS"
