#!/usr/bin/env bash
# Runs every benchmark; each prints Markdown tables for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")"
bash http.sh
