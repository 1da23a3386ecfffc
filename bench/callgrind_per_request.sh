#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Instructions per request of warmcached under callgrind, a deterministic figure for hot-path
# changes (wall-clock benchmarks on a shared 2-core machine are too noisy for a few percent).
# Fixed workload: -t 1, 10k sets of 100 B, then 100k requests 90:10 get:set over them.
# Usage: bench/callgrind_per_request.sh [path/to/warmcached]   (build warmcache-bench first)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/warmcached}
BENCH=${BENCH:-build/warmcache-bench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
MEMCACHED_PORT_FILENAME=$work/port valgrind --tool=callgrind --callgrind-out-file="$work/out" \
  "$BIN" -p -1 -U 0 -l 127.0.0.1 -t 1 >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done  # valgrind starts slowly
port=$(sed -n 's/TCP INET: //p' "$work/port")
"$BENCH" --port "$port" --connections 10 --mode load --keys 10000 --value-size 100 >/dev/null
"$BENCH" --port "$port" --connections 10 --mode mixed --ratio 90:10 --keys 10000 --value-size 100 \
  --duration 60 --warmup 0 --max-requests 100000 >/dev/null
kill "$pid"
wait "$pid" || true
total=$(callgrind_annotate "$work/out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "instructions: $total total, $((total / 110000)) per request (110k requests, start-up included)"
