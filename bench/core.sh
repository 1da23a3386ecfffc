#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Compares warmcached with Debian's memcached on loopback and writes docs/benchmarks.md.
#
# Usage: bench/core.sh [path/to/warmcached]        (default: build/warmcached)
# Builds nothing: build warmcached and warmcache-bench first (cmake --build build). Every run is
# bounded in time and count, servers are started on ephemeral 127.0.0.1 ports and stopped by
# PID. Settings come from the environment (defaults in brackets):
#   MEMCACHED [/usr/bin/memcached]     BENCH [build/warmcache-bench]    OUT [docs/benchmarks.md]
#   DURATION [5] measured s per run     WARMUP [1] s before it            ROUNDS [5] (median kept)
#   KEYS [100000]  VALUE_SIZE [100]     CONNECTIONS [50]  MULTIGET [16]   RSS_KEYS [1000000]
#   SERVER_ARGS ["-t 2 -m 1024"] both servers    WARMCACHED_ARGS [] extra flags for warmcached
#   PIN [1]: servers on CPU 0, load generator on CPU 1 (0: let the scheduler place everything)
#   QUIET_MAX [25] QUIET_WAIT [10]: before each pair of runs wait up to QUIET_WAIT s for other
#   processes to use under QUIET_MAX% of a core
# Five short paired rounds rather than one long run per server: other jobs on this shared
# machine come and go within seconds, and back-to-back runs of a pair see about the same
# interference, so the median of per-pair ratios is steadier than a ratio of two long runs.
# Exit status: 0 all runs verified; 1 a run reported errors (figures still written, flagged);
# 2 bad setup (missing binary, server did not start).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# A warmcached path given as an argument is taken from the caller's directory; every other
# relative path (defaults, BENCH, OUT, MEMCACHED) from the repository root.
if [ $# -gt 0 ]; then WARMCACHED=$(realpath -m -- "$1"); fi
cd "$HERE/.."

WARMCACHED=${WARMCACHED:-build/warmcached}
MEMCACHED=${MEMCACHED:-/usr/bin/memcached}
BENCH=${BENCH:-build/warmcache-bench}
OUT=${OUT:-docs/benchmarks.md}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-5}
KEYS=${KEYS:-100000}
VALUE_SIZE=${VALUE_SIZE:-100}
CONNECTIONS=${CONNECTIONS:-50}
MULTIGET=${MULTIGET:-16}
RSS_KEYS=${RSS_KEYS:-1000000}
SERVER_ARGS=${SERVER_ARGS:-"-t 2 -m 1024"}
WARMCACHED_ARGS=${WARMCACHED_ARGS:-}
PIN=${PIN:-1}
QUIET_MAX=${QUIET_MAX:-25}
QUIET_WAIT=${QUIET_WAIT:-10}

source "$HERE/lib/servers.sh"
source "$HERE/lib/report.sh"
source "$HERE/lib/sections.sh"

main() {
  check_setup
  TREE_STATE=$(tree_state)
  TMP=$(mktemp -d /tmp/warmcache-bench.XXXXXX)
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  RUNS="$TMP/runs.tsv"     # one row per bench run, see record_run
  : >"$RUNS"
  local started=$SECONDS
  throughput_phase
  rss_phase
  # Sections other scripts own (bench/beyond_ram.sh) survive a rerun of this one.
  { write_report; marked_sections "$OUT"; } >"$TMP/report.md"
  cat "$TMP/report.md" >"$OUT"
  echo "core.sh: wrote $OUT in $((SECONDS - started)) s"
  if ((FAILED_RUNS > 0)); then
    echo "core.sh: $FAILED_RUNS run(s) reported errors; their rows are flagged in $OUT" >&2
    exit 1
  fi
}

check_setup() {
  local binary
  for binary in "$WARMCACHED" "$MEMCACHED" "$BENCH"; do
    [ -x "$binary" ] || die "not an executable: $binary (build first: cmake --build build)"
  done
  if ((PIN)) && [ "$(nproc)" -lt 2 ]; then
    echo "core.sh: fewer than 2 CPUs, not pinning" >&2
    PIN=0
  fi
}

# Each round starts fresh instances of both servers, loads them, then runs (a) mixed and
# (b) multiget against each in turn. Fresh instances matter: two identical memcached processes
# can differ by several percent for the whole of their lives (memory layout), so reusing one pair
# would turn that luck into a fixed bias. The order of the servers alternates between rounds so
# that drift on a shared machine hits both alike.
throughput_phase() {
  local name round
  for ((round = 1; round <= ROUNDS; round++)); do
    local order=(memcached warmcached)
    ((round % 2 == 0)) && order=(warmcached memcached)
    start_server memcached "$MEMCACHED"
    start_server warmcached "$WARMCACHED" $WARMCACHED_ARGS
    for name in "${order[@]}"; do
      run_bench "$name" load "$round" --mode load --keys "$KEYS" --value-size "$VALUE_SIZE"
    done
    wait_for_quiet
    for name in "${order[@]}"; do
      run_bench "$name" mixed "$round" --mode mixed --ratio 90:10 "${COMMON_RUN_ARGS[@]}"
    done
    wait_for_quiet
    for name in "${order[@]}"; do
      run_bench "$name" multiget "$round" --mode multiget --multiget "$MULTIGET" \
        "${COMMON_RUN_ARGS[@]}"
    done
    stop_server memcached
    stop_server warmcached
  done
}

# Fresh instances, RSS_KEYS items loaded into each, VmRSS read after the load.
rss_phase() {
  start_server memcached_rss "$MEMCACHED"
  start_server warmcached_rss "$WARMCACHED" $WARMCACHED_ARGS
  local name
  wait_for_quiet
  for name in memcached_rss warmcached_rss; do
    RSS_BEFORE[$name]=$(vm_rss_kib "${PID[$name]}")
    run_bench "$name" rss_load 0 --mode load --keys "$RSS_KEYS" --value-size "$VALUE_SIZE"
  done
  sleep 1  # let lazy background work (memcached's LRU crawler, flushes) settle
  for name in memcached_rss warmcached_rss; do
    RSS_AFTER[$name]=$(vm_rss_kib "${PID[$name]}")
  done
  stop_server memcached_rss
  stop_server warmcached_rss
}

COMMON_RUN_ARGS=(--keys "$KEYS" --value-size "$VALUE_SIZE" --duration "$DURATION"
                 --warmup "$WARMUP" --distribution uniform)
declare -A RSS_BEFORE RSS_AFTER
FAILED_RUNS=0

main
