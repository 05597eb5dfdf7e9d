#!/usr/bin/env bash
# HTTP throughput: bare handler vs CQI stack (recovery + 4 no-op middleware)
# vs a Hono app with 5 no-op middleware, on Deno.serve and Bun.serve, with
# wrk over loopback. Variants alternate in rounds (A B C A B C ...) so drift
# hits them alike; each variant's ratio to bare is taken within a round, and
# the median (with min–max) of those ratios is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
ROUNDS=${ROUNDS:-7}
DURATION=${DURATION:-4s}
CONNECTIONS=${CONNECTIONS:-50}
if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
# Server on CPU 0, wrk on CPU 1 where there are two.
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

start_server() { # runtime variant -> prints port
  local cmd
  if [ "$1" = deno ]; then cmd="deno run -A bench/http_server.ts $2"; else cmd="bun run bench/http_server.ts $2"; fi
  $pin_server $cmd >"$out/$1-$2.log" 2>&1 &
  echo $! >>"$out/pids"
  for _ in $(seq 100); do
    grep -q '^port ' "$out/$1-$2.log" 2>/dev/null && break
    sleep 0.1
  done
  sed -n 's/^port //p' "$out/$1-$2.log"
}

echo "runtime variant round requests_per_sec p99_ms" >"$out/results"
for runtime in deno bun; do
  declare -A ports=()
  for variant in bare cqi hono; do ports[$variant]=$(start_server $runtime $variant); done
  for variant in bare cqi hono; do # warm-up
    $pin_wrk wrk -t1 -c$CONNECTIONS -d2s "http://127.0.0.1:${ports[$variant]}/" >/dev/null
  done
  for round in $(seq "$ROUNDS"); do
    for variant in bare cqi hono; do
      result=$($pin_wrk wrk -t1 -c$CONNECTIONS -d$DURATION --latency "http://127.0.0.1:${ports[$variant]}/")
      rps=$(awk '/Requests\/sec/ {print $2}' <<<"$result")
      p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$result")
      echo "$runtime $variant $round $rps $p99" >>"$out/results"
    done
  done
  stop_servers
  unset ports
done

echo "## wrk -t1 -c$CONNECTIONS -d$DURATION, $ROUNDS alternating rounds"
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").slice(1).map((l) => l.split(" "));
  const med = (xs) => { xs = [...xs].sort((a, b) => a - b); return xs[xs.length >> 1]; };
  console.log("| runtime | variant | req/s (median) | vs bare, same round: median (min–max) | p99 ms (median) |");
  console.log("| --- | --- | ---: | ---: | ---: |");
  for (const rt of ["deno", "bun"]) {
    const of = (v) => rows.filter((r) => r[0] === rt && r[1] === v);
    const bare = Object.fromEntries(of("bare").map((r) => [r[2], Number(r[3])]));
    for (const v of ["bare", "cqi", "hono"]) {
      const ratios = of(v).map((r) => Number(r[3]) / bare[r[2]] * 100);
      const pct = (x) => x.toFixed(1) + "%";
      console.log(`| ${rt} | ${v} | ${Math.round(med(of(v).map((r) => Number(r[3]))))} | ${pct(med(ratios))} (${pct(Math.min(...ratios))}–${pct(Math.max(...ratios))}) | ${med(of(v).map((r) => Number(r[4]))).toFixed(2)} |`);
    }
  }' "$out/results"

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
