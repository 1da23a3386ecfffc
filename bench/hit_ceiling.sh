#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# How fast can a server answer zipf GETs when it sends the values, against when it answers END?
# The "beyond RAM" target of issue #4 compares warmcached (every GET a hit) with memcached +
# extstore at -m 64 (about 95% of GETs answered END). This measures the ceiling of that
# comparison with no disk at all: memcached -m 64 (mostly misses), memcached with room for every
# key (all hits from RAM) and warmcached --persistence=off with the same room, ROUNDS rounds
# each, interleaved, on fresh instances. Prints one line per run and the medians.
#
# Usage: bench/hit_ceiling.sh [path/to/warmcached]   (builds nothing; default build/warmcached)
# Settings: ROUNDS [3] KEYS [1000000] VALUE_SIZE [1000] DURATION [10] CONNECTIONS [50] PIN [1]
#   QUIET_MAX [25] QUIET_WAIT [10]
# Takes about ROUNDS x 2 minutes. Servers listen on ephemeral 127.0.0.1 ports, stopped by PID.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ $# -gt 0 ]; then WARMCACHED=$(realpath -m -- "$1"); fi
cd "$HERE/.."
WARMCACHED=${WARMCACHED:-build/warmcached}
MEMCACHED=${MEMCACHED:-/usr/bin/memcached}
BENCH=${BENCH:-build/warmcache-bench}
ROUNDS=${ROUNDS:-3}
KEYS=${KEYS:-1000000}
VALUE_SIZE=${VALUE_SIZE:-1000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-50}
PIN=${PIN:-1}
QUIET_MAX=${QUIET_MAX:-25}
QUIET_WAIT=${QUIET_WAIT:-10}
SERVER_ARGS="-t 2"

source "$HERE/lib/servers.sh"

[ -x "$BENCH" ] && [ -x "$WARMCACHED" ] && [ -x "$MEMCACHED" ] || die "build warmcached and warmcache-bench first"
TMP=$(mktemp -d /tmp/warmcache-hit-ceiling.XXXXXX)
RUNS="$TMP/runs.tsv"
FAILED_RUNS=0
trap cleanup EXIT
trap 'exit 130' INT TERM

# One fresh server: load every key, then DURATION s of zipf GETs; prints its req/s.
run_one() {
  local name=$1 binary=$2
  shift 2
  start_server "$name" "$binary" "$@"
  run_bench "$name" load "$round" --mode load --keys "$KEYS" --value-size "$VALUE_SIZE" \
    --value-kind json
  wait_for_quiet
  run_bench "$name" zipf "$round" --mode mixed --ratio 100 --distribution zipf --keys "$KEYS" \
    --value-size "$VALUE_SIZE" --value-kind json --duration "$DURATION" --warmup 1
  stop_server "$name"
}

for ((round = 1; round <= ROUNDS; round++)); do
  run_one memcached_m64_misses "$MEMCACHED" -m 64
  run_one memcached_ram_hits "$MEMCACHED" -m 2048
  run_one warmcached_ram_hits "$WARMCACHED" -m 2048 --persistence=off
done

echo "zipf GETs/s, median of $ROUNDS (hit ratio):"
for name in memcached_m64_misses memcached_ram_hits warmcached_ram_hits; do
  awk -F'\t' -v n="$name" '$1 == n && $2 == "zipf" { print $5, $10 }' "$RUNS" | sort -n |
    awk -v n="$name" '{ r[NR] = $1; h = $2 } END { printf "  %-22s %10.0f  (%.1f%% hits)\n", n, r[int((NR + 1) / 2)], 100 * h }'
done
