#!/usr/bin/env bash
# Throughput of a set of server variants with wrk over loopback, on Deno.serve
# and Bun.serve: the one wrk driver behind bench/http.sh and bench/stack.sh.
#
#   bash bench/wrk_rounds.sh SERVER_SCRIPT "VARIANT ..." PATH [HEADER]
#
# SERVER_SCRIPT takes a variant name and prints "port N" once it listens;
# the first variant is the baseline. Servers run on CPU 0 and wrk -t1 on CPU 1
# where there are two; variants alternate in rounds (A B C A B C ...) so drift
# hits them alike; each variant's ratio to the baseline is taken within a
# round, and the median (with min–max) of those ratios is reported, one
# Markdown table per runtime. Env: ROUNDS (default 7), DURATION (4s),
# CONNECTIONS (50), RUNTIMES ("deno bun"), RESULTS (a file that receives the
# raw rows: runtime variant round requests_per_sec p99_ms non2xx).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
SERVER=$1
VARIANTS=$2
URL_PATH=$3
HEADER=${4:-}
ROUNDS=${ROUNDS:-7}
DURATION=${DURATION:-4s}
CONNECTIONS=${CONNECTIONS:-50}
if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
pin_server="" pin_wrk=""
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_server="taskset -c 0" pin_wrk="taskset -c 1"
fi
out=$(mktemp -d)
# Servers start inside $(...) subshells, so `jobs` cannot see them: keep pids.
stop_servers() {
  [ -f "$out/pids" ] && xargs -r kill <"$out/pids" 2>/dev/null || true
  rm -f "$out/pids"
}
trap 'stop_servers; rm -rf "$out"' EXIT

start_server() { # runtime variant -> prints port (exits when it fails)
  local cmd port
  if [ "$1" = deno ]; then cmd="deno run -A $SERVER $2"; else cmd="bun run $SERVER $2"; fi
  $pin_server $cmd >"$out/$1-$2.log" 2>&1 &
  echo $! >>"$out/pids"
  for _ in $(seq 150); do
    grep -q '^port ' "$out/$1-$2.log" 2>/dev/null && break
    sleep 0.1
  done
  port=$(sed -n 's/^port //p' "$out/$1-$2.log")
  if [ -z "$port" ]; then
    echo "$1 $2 did not start:" >&2
    cat "$out/$1-$2.log" >&2
    exit 1
  fi
  echo "$port"
}

load() { # port duration [--latency]
  local header=()
  [ -n "$HEADER" ] && header=(-H "$HEADER")
  $pin_wrk wrk -t1 -c"$CONNECTIONS" -d"$2" ${3:-} "${header[@]}" "http://127.0.0.1:$1$URL_PATH"
}

echo "runtime variant round requests_per_sec p99_ms non2xx" >"$out/results"
for runtime in ${RUNTIMES:-deno bun}; do
  declare -A ports=()
  for variant in $VARIANTS; do
    port=$(start_server $runtime $variant)
    ports[$variant]=$port
  done
  for variant in $VARIANTS; do load "${ports[$variant]}" 2s >/dev/null; done # warm-up
  for round in $(seq "$ROUNDS"); do
    for variant in $VARIANTS; do
      result=$(load "${ports[$variant]}" "$DURATION" --latency)
      rps=$(awk '/Requests\/sec/ {print $2}' <<<"$result")
      p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$result")
      non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$result")
      echo "$runtime $variant $round $rps $p99 ${non2xx:-0}" >>"$out/results"
    done
  done
  stop_servers
  unset ports
done

[ -n "${RESULTS:-}" ] && cp "$out/results" "$RESULTS"
echo "## wrk -t1 -c$CONNECTIONS -d$DURATION, $ROUNDS alternating rounds, GET $URL_PATH${HEADER:+ with $(cut -d: -f1 <<<"$HEADER")}"
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").slice(1).map((l) => l.split(" "));
  const variants = process.argv[2].split(" ");
  const base = variants[0];
  const med = (xs) => { xs = [...xs].sort((a, b) => a - b); return xs[xs.length >> 1]; };
  for (const r of rows.filter((r) => Number(r[5]) > 0)) {
    console.log(`WARNING: ${r[0]} ${r[1]} round ${r[2]}: ${r[5]} non-2xx responses`);
  }
  for (const rt of ["deno", "bun"].filter((rt) => rows.some((r) => r[0] === rt))) {
    console.log();
    console.log(`### ${rt}`);
    console.log(`| variant | req/s (median) | vs ${base}, same round: median (min–max) | p99 ms (median) |`);
    console.log("| --- | ---: | ---: | ---: |");
    const of = (v) => rows.filter((r) => r[0] === rt && r[1] === v);
    const baseline = Object.fromEntries(of(base).map((r) => [r[2], Number(r[3])]));
    for (const v of variants) {
      const ratios = of(v).map((r) => Number(r[3]) / baseline[r[2]] * 100);
      const pct = (x) => x.toFixed(1) + "%";
      console.log(`| ${v} | ${Math.round(med(of(v).map((r) => Number(r[3]))))} | ${pct(med(ratios))} (${pct(Math.min(...ratios))}–${pct(Math.max(...ratios))}) | ${med(of(v).map((r) => Number(r[4]))).toFixed(2)} |`);
    }
  }' "$out/results" "$VARIANTS"
