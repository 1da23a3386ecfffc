#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The proxy benchmark (issue #6): warmcached --proxy against Debian's nutcracker (twemproxy),
# each in front of the same 3 warmcached nodes, reading the same twemproxy pool file, in the same
# run. Each round starts 3 fresh nodes and every front in SERVERS, loads KEYS keys through each
# front, then runs 90:10 get:set and MULTIGET-key gets through each front in turn (the order
# rotates between rounds). Medians over ROUNDS, warmcache / nutcracker ratios, and the figure
# least disturbed by other jobs: requests per CPU-second of the front. Writes the "proxy" section
# of docs/benchmarks.md.
#
# Usage: bench/proxy.sh [path/to/warmcached]        (default: build/warmcached)
# Builds nothing: build warmcached and warmcache-bench first. Nodes and warmcached fronts bind
# ephemeral 127.0.0.1 ports (-p -1); nutcracker, which cannot, gets ports that were free a moment
# before (retried if the bind fails). Everything is stopped by PID; the EXIT trap kills what is
# left and removes the temporary directory (pool file, logs, JSON). Settings (defaults in
# brackets):
#   SERVERS ["nutcracker warmcache warmcache_t2"]: the fronts; warmcache is warmcached --proxy
#     -t 1, warmcache_t2 the same with -t 2, nutcracker_b a second nutcracker (an A/A control of
#     the method: its ratio to nutcracker should be 1.00). Without a warmcache front (e.g.
#     SERVERS=nutcracker) the script runs with a warmcached that has no --proxy.
#   NUTCRACKER [/usr/sbin/nutcracker]  BENCH [build/warmcache-bench]  OUT [docs/benchmarks.md]
#   NODE_ARGS ["--persistence=off -t 1 -m 256"]: each of the 3 nodes (warmcached)
#   POOL_HASH [md5] POOL_DISTRIBUTION [ketama] POOL_TIMEOUT [1000] ms: the pool file's keys
#   DURATION [5] measured s per run  WARMUP [1] s before it  ROUNDS [3] (medians kept)
#   KEYS [100000] VALUE_SIZE [100] CONNECTIONS [50] MULTIGET [16] LOAD_MAX_TIME [60]
#   PIN [1]: fronts on CPU 0, nodes and warmcache-bench on CPU 1 (0: nothing pinned)
#   QUIET_MAX [25] QUIET_WAIT [10]: before each set of timed runs wait up to QUIET_WAIT s for
#     other processes to use under QUIET_MAX% of a core (as bench/core.sh does)
# Exit status: 0 all runs verified; 1 a run reported errors or wrong values, or keys loaded
# through one front were missing through another (figures still written, flagged); 2 bad setup.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ $# -gt 0 ]; then WARMCACHED=$(realpath -m -- "$1"); fi
cd "$HERE/.."

WARMCACHED=${WARMCACHED:-build/warmcached}
NUTCRACKER=${NUTCRACKER:-/usr/sbin/nutcracker}
BENCH=${BENCH:-build/warmcache-bench}
OUT=${OUT:-docs/benchmarks.md}
SERVERS=${SERVERS:-"nutcracker warmcache warmcache_t2"}
NODE_ARGS=${NODE_ARGS:-"--persistence=off -t 1 -m 256"}
POOL_HASH=${POOL_HASH:-md5}
POOL_DISTRIBUTION=${POOL_DISTRIBUTION:-ketama}
POOL_TIMEOUT=${POOL_TIMEOUT:-1000}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-3}
KEYS=${KEYS:-100000}
VALUE_SIZE=${VALUE_SIZE:-100}
CONNECTIONS=${CONNECTIONS:-50}
MULTIGET=${MULTIGET:-16}
LOAD_MAX_TIME=${LOAD_MAX_TIME:-60}
PIN=${PIN:-1}
QUIET_MAX=${QUIET_MAX:-25}
QUIET_WAIT=${QUIET_WAIT:-10}

NODES=(node1 node2 node3)
FRONT_CPU=0
NODE_CPU=1  # with warmcache-bench (client_pin)
SERVER_ARGS=$NODE_ARGS  # what start_server gives the nodes

source "$HERE/lib/servers.sh"
source "$HERE/lib/report.sh"  # tree_state, binary_version, median, total, ratio, ...
source "$HERE/lib/sections.sh"
source "$HERE/lib/proxy_report.sh"

declare -A NODE_ITEMS AGREE
FAILED_RUNS=0
BUGS=()   # each makes the exit status 1
NOTES=()  # for the report
POOL=""

main() {
  check_setup
  TREE_STATE=$(tree_state)
  TMP=$(mktemp -d /tmp/warmcache-proxy.XXXXXX)
  POOL="$TMP/pool.yml"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  RUNS="$TMP/runs.tsv"
  : >"$RUNS"
  local started=$SECONDS round
  for ((round = 1; round <= ROUNDS; round++)); do run_round "$round"; done
  write_section >"$TMP/section.md"
  replace_section "$OUT" proxy "$TMP/section.md"
  echo "$PROG: wrote the proxy section of $OUT in $((SECONDS - started)) s"
  print_summary >&2
  if ((FAILED_RUNS > 0)); then
    BUGS+=("$FAILED_RUNS warmcache-bench run(s) reported errors; their rows are flagged in $OUT")
  fi
  if ((${#BUGS[@]} > 0)); then
    printf '%s: FAILED: %s\n' "$PROG" "${BUGS[@]}" >&2
    exit 1
  fi
}

check_setup() {
  local name wants_proxy=0
  [ -x "$BENCH" ] || die "not an executable: $BENCH (build first: cmake --build build --target warmcache-bench)"
  [ -x "$WARMCACHED" ] || die "not an executable: $WARMCACHED (the nodes; build first)"
  [ -n "$SERVERS" ] || die "SERVERS is empty"
  for name in $SERVERS; do
    case $name in
      nutcracker | nutcracker_b)
        [ -x "$NUTCRACKER" ] || die "not an executable: $NUTCRACKER (apt-get install nutcracker)" ;;
      warmcache | warmcache_t2) wants_proxy=1 ;;
      *) die "unknown front '$name' in SERVERS (nutcracker nutcracker_b warmcache warmcache_t2)" ;;
    esac
  done
  [[ " $SERVERS " == *" nutcracker_b "* && " $SERVERS " != *" nutcracker "* ]] &&
    die "nutcracker_b is a control for nutcracker: SERVERS needs both"
  if ((wants_proxy)) && ! "$WARMCACHED" --help 2>&1 | grep -q -- '--proxy'; then
    die "$WARMCACHED has no --proxy mode (issue #6) in its --help, so the warmcache fronts" \
      "cannot run. Build a warmcached with the proxy, or run SERVERS=nutcracker $0 to measure" \
      "nutcracker alone."
  fi
  if ((!wants_proxy)); then
    NOTES+=("SERVERS=\"$SERVERS\": warmcached --proxy was not measured in this run; no warmcache row.")
    echo "$PROG: SERVERS=\"$SERVERS\": skipping warmcached --proxy, measuring only $SERVERS" >&2
  fi
  if ((PIN)) && [ "$(nproc)" -lt 2 ]; then
    echo "$PROG: fewer than 2 CPUs, not pinning" >&2
    PIN=0
  fi
}

# One round: fresh nodes and fronts, load through each front, then the timed runs through each
# front in turn, in an order that rotates from round to round so that each front goes first as
# often as the others and drift on a shared machine hits all alike.
run_round() {
  # shellcheck disable=SC2206  # SERVERS is a list of names by design
  local round=$1 fronts=($SERVERS) order=() i name
  for ((i = 0; i < ${#fronts[@]}; i++)); do
    order+=("${fronts[(i + round - 1) % ${#fronts[@]}]}")
  done
  start_nodes
  write_pool "$(free_port)"
  for name in $SERVERS; do start_front "$name"; done

  # The first front loads every key; each other front then reads them all back through its own
  # ring: a key it places on another node than the first front did is a miss.
  wait_for_quiet
  run_bench "${order[0]}" load "$round" "${LOAD_ARGS[@]}"
  for name in "${order[@]:1}"; do
    run_bench "$name" agree "$round" --mode verify --keys "$KEYS" --value-size "$VALUE_SIZE" \
      --multiget "$MULTIGET" --max-time "$LOAD_MAX_TIME"
    AGREE[$round.$name]="${order[0]} $(json_field "$TMP/$name.agree.$round.json" hits)"
    if [ "${AGREE[$round.$name]#* }" != "$KEYS" ]; then
      BUGS+=("round $round: of $KEYS keys loaded through ${order[0]}, $name found ${AGREE[$round.$name]#* }")
    fi
  done
  for name in "${order[@]:1}"; do run_bench "$name" load "$round" "${LOAD_ARGS[@]}"; done
  NODE_ITEMS[$round]=$(node_items)

  wait_for_quiet
  for name in "${order[@]}"; do
    run_bench "$name" mixed "$round" --mode mixed --ratio 90:10 "${COMMON_RUN_ARGS[@]}"
  done
  wait_for_quiet
  for name in "${order[@]}"; do
    run_bench "$name" multiget "$round" --mode multiget --multiget "$MULTIGET" "${COMMON_RUN_ARGS[@]}"
  done

  for name in $SERVERS; do stop_server "$name"; done
  for name in "${NODES[@]}"; do stop_server "$name"; done
  BACKEND_PIDS=()
}

# Three fresh warmcached nodes, on CPU 1 with warmcache-bench.
start_nodes() {
  local name
  BACKEND_PIDS=()
  for name in "${NODES[@]}"; do
    SERVER_CPU=$NODE_CPU start_server "$name" "$WARMCACHED"
    BACKEND_PIDS+=("${PID[$name]}")
  done
}

# write_pool LISTEN_PORT: the one pool file every front reads. Nodes are named, so ketama hashes
# the names (twemproxy's rule) and a key lands on the same node in every round although the
# nodes' ports change.
write_pool() {
  local name
  {
    echo "bench:"
    echo "  listen: 127.0.0.1:$1"
    echo "  hash: $POOL_HASH"
    echo "  distribution: $POOL_DISTRIBUTION"
    echo "  timeout: $POOL_TIMEOUT"
    echo "  auto_eject_hosts: false"
    echo "  servers:"
    for name in "${NODES[@]}"; do echo "   - 127.0.0.1:${PORT[$name]}:1 $name"; done
  } >"$POOL"
}

start_front() {
  case $1 in
    nutcracker) start_nutcracker nutcracker "$POOL" ;;
    nutcracker_b)  # the A/A control: the same pool but for the listen port
      cp -- "$POOL" "$TMP/pool.nutcracker_b.yml"
      set_listen "$TMP/pool.nutcracker_b.yml" "$(free_port)"
      start_nutcracker nutcracker_b "$TMP/pool.nutcracker_b.yml" ;;
    warmcache) start_warmcache_proxy warmcache 1 ;;
    warmcache_t2) start_warmcache_proxy warmcache_t2 2 ;;
  esac
}

# start_nutcracker NAME POOL_FILE: nutcracker on CPU 0 on POOL_FILE's listen port, its stats on
# another free port. Neither port can be ephemeral, so a bind can fail if something took the port
# meanwhile: then a new listen port in POOL_FILE and new stats port, up to 5 times. Ready when the
# listen port accepts a connection.
start_nutcracker() {
  local name=$1 pool=$2 try listen stats cmd
  "$NUTCRACKER" -t -c "$pool" >"$TMP/$name.conftest" 2>&1 ||
    die "nutcracker -t rejects the pool file: $(tail -3 "$TMP/$name.conftest")"
  for ((try = 1; try <= 5; try++)); do
    listen=$(sed -nE 's/^  listen: 127\.0\.0\.1:([0-9]+)$/\1/p' "$pool")
    stats=$(free_port)
    # shellcheck disable=SC2207
    cmd=($(pin_to "$FRONT_CPU") "$NUTCRACKER" -c "$pool" -s "$stats" -a 127.0.0.1
         -o "$TMP/$name.log")
    "${cmd[@]}" >>"$TMP/$name.out" 2>&1 &
    PID[$name]=$!
    STARTED_PIDS+=("$!")
    if wait_accepting "$name" "$listen"; then
      PORT[$name]=$listen
      SERVER_COMMAND[$name]=$(echo "${cmd[*]}" | sed -E "s#$TMP/#<tmp>/#g; s/-s [0-9]+/-s <stats port>/")
      echo "$PROG: $name started, pid ${PID[$name]}, port $listen" >&2
      return 0
    fi
    wait "${PID[$name]}" 2>/dev/null || true
    echo "$PROG: $name exited at startup (try $try): $(tail -2 "$TMP/$name.log" 2>/dev/null)" >&2
    set_listen "$pool" "$(free_port)"
  done
  die "$name did not start in 5 tries; see the lines above"
}

# set_listen FILE PORT: the pool file's listen line to 127.0.0.1:PORT.
set_listen() { sed -i -E "s/^  listen: .*/  listen: 127.0.0.1:$2/" "$1"; }

# start_warmcache_proxy NAME THREADS: warmcached --proxy on CPU 0 on an ephemeral loopback port:
# -p or -l on the command line replace the pool's listen (both given, so that -p alone does not
# mean all interfaces), and -p -1 writes the port to MEMCACHED_PORT_FILENAME.
start_warmcache_proxy() {
  local name=$1 threads=$2
  # shellcheck disable=SC2046  # pin_to is empty or "taskset -c N"
  start_with_port_file "$name" $(pin_to "$FRONT_CPU") "$WARMCACHED" --proxy --pool "$POOL" \
    -p -1 -l 127.0.0.1 -t "$threads"
  SERVER_COMMAND[$name]=${SERVER_COMMAND[$name]//$TMP\//<tmp>/}
}

# "a / b / c": curr_items of each node, after every front has loaded the keys.
node_items() {
  local name out=()
  for name in "${NODES[@]}"; do
    out+=("$(server_stats "${PORT[$name]}" stats | awk '$2 == "curr_items" { print $3 }')")
  done
  local joined
  joined=$(IFS=/; echo "${out[*]}")
  echo "${joined//\// / }"
}

LOAD_ARGS=(--mode load --keys "$KEYS" --value-size "$VALUE_SIZE" --max-time "$LOAD_MAX_TIME")
COMMON_RUN_ARGS=(--keys "$KEYS" --value-size "$VALUE_SIZE" --duration "$DURATION"
                 --warmup "$WARMUP" --distribution uniform)

main
