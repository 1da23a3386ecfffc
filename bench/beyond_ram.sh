#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The "beyond RAM" benchmark (issue #4): about 1 GB of values into servers given 64 MB of RAM.
# warmcached with its RocksDB warm tier, memcached, and memcached with extstore, one after the
# other in one run, each a fresh instance with the same -t and -m. For each: load 1M keys of
# 1000 B JSON, read every key back once and check every byte, then 10 s of zipf GETs; VmRSS is
# sampled all along. Writes its section of docs/benchmarks.md (between the beyond-ram markers).
#
# Usage: bench/beyond_ram.sh [path/to/warmcached]        (default: build/warmcached)
# Builds nothing: build warmcached and warmcache-bench first. Servers listen on ephemeral
# 127.0.0.1 ports and are stopped by PID; temporary files (warmcached's data dir, the extstore
# files) live under one mktemp dir that the EXIT trap removes. Settings (defaults in brackets):
#   SERVERS ["memcached extstore extstore_am2 warmcached"]: which servers, in this order
#   MEMCACHED [/usr/bin/memcached]  BENCH [build/warmcache-bench]  OUT [docs/benchmarks.md]
#   SERVER_ARGS ["-t 2 -m 64"] every server
#   WARMCACHED_ARGS ["--data-dir @DATA_DIR@ --disk-limit 4G"]: @DATA_DIR@ becomes a fresh dir
#   EXTSTORE_SIZE [2G]: -o ext_path=FILE:SIZE for both extstore servers
#   EXTSTORE_AM2_ARGS ["-o slab_automove=2"]: what extstore_am2 adds to extstore's flags
#   KEYS [1000000] VALUE_SIZE [1000] VALUE_KIND [json]
#   LOAD_MAX_TIME [120] VERIFY_MAX_TIME [120]: s before a load or read-back gives up (and fails)
#   VERIFY_CONNECTIONS [8] VERIFY_DEPTH [8] MULTIGET [16]: read-back pipelining
#   ZIPF_DURATION [10] ZIPF_WARMUP [0] ZIPF_THETA [0.99] CONNECTIONS [50]: the zipf phase
#   RSS_INTERVAL [0.2] s between VmRSS samples   PIN [1]: servers on CPU 0, the client on CPU 1
#   QUIET_MAX [25] QUIET_WAIT [10]: before the load and the zipf phase, wait up to QUIET_WAIT s
#   for other processes to use under QUIET_MAX% of a core (as bench/core.sh does)
# Exit status: 0 all values verified and warmcached error-free; 1 a wrong value from any server,
# or any error from warmcached (figures still written); 2 bad setup.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ $# -gt 0 ]; then WARMCACHED=$(realpath -m -- "$1"); fi
cd "$HERE/.."

WARMCACHED=${WARMCACHED:-build/warmcached}
MEMCACHED=${MEMCACHED:-/usr/bin/memcached}
BENCH=${BENCH:-build/warmcache-bench}
OUT=${OUT:-docs/benchmarks.md}
SERVERS=${SERVERS:-"memcached extstore extstore_am2 warmcached"}
SERVER_ARGS=${SERVER_ARGS:-"-t 2 -m 64"}
WARMCACHED_ARGS=${WARMCACHED_ARGS-"--data-dir @DATA_DIR@ --disk-limit 4G"}
EXTSTORE_SIZE=${EXTSTORE_SIZE:-2G}
EXTSTORE_AM2_ARGS=${EXTSTORE_AM2_ARGS:-"-o slab_automove=2"}
KEYS=${KEYS:-1000000}
VALUE_SIZE=${VALUE_SIZE:-1000}
VALUE_KIND=${VALUE_KIND:-json}
LOAD_MAX_TIME=${LOAD_MAX_TIME:-120}
VERIFY_MAX_TIME=${VERIFY_MAX_TIME:-120}
VERIFY_CONNECTIONS=${VERIFY_CONNECTIONS:-8}
VERIFY_DEPTH=${VERIFY_DEPTH:-8}
MULTIGET=${MULTIGET:-16}
ZIPF_DURATION=${ZIPF_DURATION:-10}
ZIPF_WARMUP=${ZIPF_WARMUP:-0}
ZIPF_THETA=${ZIPF_THETA:-0.99}
CONNECTIONS=${CONNECTIONS:-50}
RSS_INTERVAL=${RSS_INTERVAL:-0.2}
PIN=${PIN:-1}
QUIET_MAX=${QUIET_MAX:-25}
QUIET_WAIT=${QUIET_WAIT:-10}

source "$HERE/lib/servers.sh"
source "$HERE/lib/report.sh"  # tree_state, binary_version, int, mib, ratio
source "$HERE/lib/sections.sh"
source "$HERE/lib/beyond_ram_report.sh"

declare -A SAMPLER RSS_MAX HWM DISK_AFTER_LOAD DISK_AFTER_READS STATS_FILE
FAILED_RUNS=0
BUGS=()  # wrong values, and warmcached errors: each makes the exit status 1

main() {
  check_setup
  TREE_STATE=$(tree_state)
  TMP=$(mktemp -d /tmp/warmcache-beyond-ram.XXXXXX)
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  RUNS="$TMP/runs.tsv"
  : >"$RUNS"
  local started=$SECONDS name
  for name in $SERVERS; do run_server "$name"; done
  write_section >"$TMP/section.md"
  replace_section "$OUT" beyond-ram "$TMP/section.md"
  echo "$PROG: wrote the beyond-ram section of $OUT in $((SECONDS - started)) s"
  print_tier_stats
  if ((${#BUGS[@]} > 0)); then
    printf '%s: BUG: %s\n' "$PROG" "${BUGS[@]}" >&2
    exit 1
  fi
}

check_setup() {
  local name
  [ -x "$BENCH" ] || die "not an executable: $BENCH (build first: cmake --build build)"
  for name in $SERVERS; do
    case $name in
      warmcached) [ -x "$WARMCACHED" ] || die "not an executable: $WARMCACHED" ;;
      memcached | extstore | extstore_am2) [ -x "$MEMCACHED" ] || die "not an executable: $MEMCACHED" ;;
      *) die "unknown server '$name' in SERVERS (memcached extstore extstore_am2 warmcached)" ;;
    esac
  done
  if ((PIN)) && [ "$(nproc)" -lt 2 ]; then
    echo "$PROG: fewer than 2 CPUs, not pinning" >&2
    PIN=0
  fi
}

# Stops the RSS samplers, then what servers.sh's cleanup stops (servers) and removes ($TMP,
# which holds warmcached's data dir and the extstore files).
on_exit() {
  local pid
  for pid in "${SAMPLER[@]}"; do kill "$pid" 2>/dev/null || true; done
  cleanup
}

# The flags that make NAME what it is, on top of SERVER_ARGS. Files go under $TMP.
server_flags() {
  case $1 in
    memcached) ;;
    extstore) echo "-o ext_path=$TMP/extstore.data:$EXTSTORE_SIZE" ;;
    extstore_am2) echo "-o ext_path=$TMP/extstore_am2.data:$EXTSTORE_SIZE $EXTSTORE_AM2_ARGS" ;;
    warmcached) echo "${WARMCACHED_ARGS//@DATA_DIR@/$TMP/warmcached-data}" ;;
  esac
}

# What `du -sb` counts as NAME's disk use, or nothing for a RAM-only server.
disk_path() {
  case $1 in
    extstore) echo "$TMP/extstore.data" ;;
    extstore_am2) echo "$TMP/extstore_am2.data" ;;
    warmcached) [[ $WARMCACHED_ARGS == *@DATA_DIR@* ]] && echo "$TMP/warmcached-data" ;;
  esac
  true
}

disk_bytes() {
  local path
  path=$(disk_path "$1")
  if [ -z "$path" ]; then echo "-"; elif [ -e "$path" ]; then du -sb -- "$path" | cut -f1; else echo 0; fi
}

# One fresh instance of NAME through the three phases, then stopped and its files removed.
run_server() {
  local name=$1 binary=$MEMCACHED flags path
  [ "$name" = warmcached ] && binary=$WARMCACHED
  [ "$name" = warmcached ] && mkdir -p "$TMP/warmcached-data"
  flags=$(server_flags "$name")
  # shellcheck disable=SC2086  # flag lists by design
  start_server "$name" "$binary" $flags
  start_rss_sampler "$name"
  wait_for_quiet
  run_bench "$name" load 1 --mode load --keys "$KEYS" --value-size "$VALUE_SIZE" \
    --value-kind "$VALUE_KIND" --max-time "$LOAD_MAX_TIME"
  DISK_AFTER_LOAD[$name]=$(disk_bytes "$name")
  CONNECTIONS=$VERIFY_CONNECTIONS run_bench "$name" verify 1 --mode verify --keys "$KEYS" \
    --value-size "$VALUE_SIZE" --value-kind "$VALUE_KIND" --multiget "$MULTIGET" \
    --load-depth "$VERIFY_DEPTH" --order scattered --max-time "$VERIFY_MAX_TIME"
  wait_for_quiet
  run_bench "$name" zipf 1 --mode mixed --ratio 100 --distribution zipf --zipf-theta "$ZIPF_THETA" \
    --keys "$KEYS" --value-size "$VALUE_SIZE" --value-kind "$VALUE_KIND" \
    --duration "$ZIPF_DURATION" --warmup "$ZIPF_WARMUP"
  DISK_AFTER_READS[$name]=$(disk_bytes "$name")
  STATS_FILE[$name]="$TMP/$name.stats"
  server_stats "${PORT[$name]}" stats >"${STATS_FILE[$name]}" ||
    echo "$PROG: no stats from $name" >&2
  if [ "$name" != warmcached ]; then
    server_stats "${PORT[$name]}" "stats slabs" >"$TMP/$name.slabs" || true
  fi
  # The kernel's own peak, to check the sampler: a peak shorter than RSS_INTERVAL shows here.
  HWM[$name]=$(awk '/^VmHWM:/ { print $2 }' "/proc/${PID[$name]}/status")
  stop_server "$name"
  stop_rss_sampler "$name"
  check_runs "$name"
  path=$(disk_path "$name")
  if [ -n "$path" ]; then rm -rf -- "$path"; fi
}

# Samples VmRSS every RSS_INTERVAL s from a background loop while the server runs; the largest
# value so far is always in $TMP/NAME.rss_max (KiB).
start_rss_sampler() {
  local name=$1 pid=${PID[$1]} out="$TMP/$1.rss_max"
  echo 0 >"$out"
  (
    max=0
    while is_running "$pid"; do
      kib=$(vm_rss_kib "$pid" 2>/dev/null) || break
      if [ -n "$kib" ] && ((kib > max)); then
        max=$kib
        echo "$max" >"$out"
      fi
      sleep "$RSS_INTERVAL"
    done
  ) &
  SAMPLER[$name]=$!
  if ((PIN)); then taskset -cp 1 "$!" >/dev/null 2>&1 || true; fi
}

stop_rss_sampler() {
  local pid=${SAMPLER[$1]}
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "SAMPLER[$1]"
  RSS_MAX[$1]=$(cat "$TMP/$1.rss_max")
}

# server_stats PORT COMMAND: the "STAT name value" lines COMMAND ("stats", "stats slabs")
# returns, without the \r. Bounded to 5 s.
# stat_value NAME STAT: one stat of NAME at the end of its run, or nothing.
stat_value() {
  awk -v s="$2" '$1 == "STAT" && $2 == s { print $3 }' "${STATS_FILE[$1]:-/dev/null}"
}

# A wrong value from any server is a bug (of that server or of the bench); so is any error
# from warmcached. memcached's own errors (out of memory while storing) are reported, not bugs.
check_runs() {
  local name=$1 phase json bad errors
  for phase in load verify zipf; do
    json="$TMP/$name.$phase.1.json"
    bad=$(json_field "$json" bad_values)
    errors=$(json_field "$json" errors)
    if ((bad > 0)); then
      BUGS+=("$name returned $bad wrong value(s) in the $phase phase ($TMP is removed on exit;" \
        "rerun with SERVERS=$name to investigate)")
      echo "$PROG: ******** $name: $bad WRONG VALUE(S) in $phase ********" >&2
    elif ((errors > 0)) && [ "$name" = warmcached ]; then
      BUGS+=("warmcached reported $errors error(s) in the $phase phase")
    fi
  done
}

# The warm_/hot_ stats of warmcached (and extstore_ ones of memcached) at the end of the run.
print_tier_stats() {
  local name
  for name in $SERVERS; do
    case $name in
      warmcached) echo "$PROG: warmcached stats at the end:"
        grep -E '^STAT (warm|hot)_' "${STATS_FILE[$name]}" || echo "  (no warm_/hot_ stats)" ;;
      extstore*) echo "$PROG: $name stats at the end:"
        grep -E '^STAT (extstore_objects_used|extstore_bytes_used|curr_items|evictions) ' \
          "${STATS_FILE[$name]}" || true ;;
    esac
  done
}

main
