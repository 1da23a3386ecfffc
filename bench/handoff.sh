#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The warm hand-off benchmark (issue #6). Each setup in SETUPS, one after the other, on fresh
# servers: three warmcached nodes are loaded with KEYS x VALUE_SIZE B through nutcracker with
# the OLD pool (ketama, md5, equal weights), as clients of a three-node pool would; then a
# fourth node is added and a second nutcracker serves the NEW pool of four, the one clients
# switch to. Then:
#   cold            nothing: every key is read through NEW (the hit ratio right after the
#                   change, as with plain memcached)
#   handoff         `warmcachectl ring move --pool OLD --pool-new NEW`, timed, then the same read
#   handoff_delete  the same with --delete-moved
# Writes its section of docs/benchmarks.md (between the handoff markers).
#
# Usage: bench/handoff.sh [path/to/warmcached]        (default: build/warmcached)
#        SMOKE=1 bench/handoff.sh                      (KEYS=20000, report to /tmp, ~15 s)
# Builds nothing: build warmcached, warmcachectl and warmcache-bench first. Servers listen on
# 127.0.0.1 (ephemeral ports; nutcracker on a port picked free) and are stopped by PID; data and
# snapshot dirs live under one mktemp dir, which the EXIT trap removes.
# Settings (defaults in brackets):
#   SETUPS ["cold handoff handoff_delete"]
#   KEYS [1000000] VALUE_SIZE [100] VALUE_KIND [fill]
#   WARMCACHED [build/warmcached] CTL [build/warmcachectl] BENCH [build/warmcache-bench]
#   NUTCRACKER [/usr/sbin/nutcracker] OUT [docs/benchmarks.md]
#   SERVER_ARGS ["-t 2"] every node   MEMORY_MB [1024] every node's -m
#   LOAD_MAX_TIME [300] VERIFY_MAX_TIME [300] MOVE_MAX_TIME [600] CONNECTIONS [50] MULTIGET [16]
#   PIN [1]: nodes on CPU 0; nutcracker, warmcache-bench and warmcachectl on CPU 1
#   QUIET_MAX [25] QUIET_WAIT [10]: before each load, move and read, wait up to QUIET_WAIT s for
#     other processes to use under QUIET_MAX% of a core
# Exit status: 0 every check passed; 1 a hand-off setup read back less than 100% of the keys, a
# wrong value anywhere, or a failed ring move (figures still written); 2 bad setup.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ $# -gt 0 ]; then WARMCACHED=$(realpath -m -- "$1"); fi
cd "$HERE/.."

SMOKE=${SMOKE:-0}
if ((SMOKE)); then
  KEYS=${KEYS:-20000}
  QUIET_WAIT=${QUIET_WAIT:-1}
  OUT=${OUT:-/tmp/warmcache-handoff-smoke.md}
fi
WARMCACHED=${WARMCACHED:-build/warmcached}
CTL=${CTL:-build/warmcachectl}
BENCH=${BENCH:-build/warmcache-bench}
NUTCRACKER=${NUTCRACKER:-/usr/sbin/nutcracker}
MEMCACHED=${MEMCACHED:-/usr/bin/memcached}  # only named in the report's header
OUT=${OUT:-docs/benchmarks.md}
SETUPS=${SETUPS:-"cold handoff handoff_delete"}
KEYS=${KEYS:-1000000}
VALUE_SIZE=${VALUE_SIZE:-100}
VALUE_KIND=${VALUE_KIND:-fill}
SERVER_ARGS=${SERVER_ARGS:-"-t 2"}
MEMORY_MB=${MEMORY_MB:-1024}
LOAD_MAX_TIME=${LOAD_MAX_TIME:-300}
VERIFY_MAX_TIME=${VERIFY_MAX_TIME:-300}
MOVE_MAX_TIME=${MOVE_MAX_TIME:-600}
CONNECTIONS=${CONNECTIONS:-50}
MULTIGET=${MULTIGET:-16}
PIN=${PIN:-1}
QUIET_MAX=${QUIET_MAX:-25}
QUIET_WAIT=${QUIET_WAIT:-10}

source "$HERE/lib/servers.sh"
source "$HERE/lib/report.sh"  # tree_state, binary_version
source "$HERE/lib/sections.sh"

declare -A MOVE_S MOVE_COMMAND
BUGS=()  # each makes the exit status 1
NODES=(node0 node1 node2 node3)

main() {
  check_setup
  TREE_STATE=$(tree_state)
  TMP=$(mktemp -d /tmp/warmcache-handoff.XXXXXX)
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  local started=$SECONDS setup
  for setup in $SETUPS; do run_setup "$setup"; done
  write_section >"$TMP/section.md"
  replace_section "$OUT" handoff "$TMP/section.md"
  echo "$PROG: wrote the handoff section of $OUT in $((SECONDS - started)) s"
  print_summary
  if ((${#BUGS[@]} > 0)); then
    local bug
    for bug in "${BUGS[@]}"; do echo "$PROG: FAIL: $bug" >&2; done
    exit 1
  fi
}

check_setup() {
  local f setup
  for f in "$WARMCACHED" "$CTL" "$BENCH"; do
    [ -x "$f" ] || die "not an executable: $f (build first: cmake --build build --target warmcached warmcachectl warmcache-bench)"
  done
  [ -x "$NUTCRACKER" ] || die "not an executable: $NUTCRACKER (run tools/install-deps.sh)"
  "$CTL" ring move --help >/dev/null 2>&1 || die "$CTL has no 'ring move': rebuild it"
  for setup in $SETUPS; do
    case $setup in cold | handoff | handoff_delete) ;; *) die "unknown setup '$setup'" ;; esac
  done
  if ((PIN)) && [ "$(nproc)" -lt 2 ]; then
    echo "$PROG: fewer than 2 CPUs, not pinning" >&2
    PIN=0
  fi
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.3f", b - a }'; }

# pool_file PATH LISTEN_PORT NODE...: a twemproxy pool file over the nodes' ports.
pool_file() {
  local path=$1 listen=$2 node
  shift 2
  {
    printf 'bench:\n  listen: 127.0.0.1:%s\n  hash: md5\n  distribution: ketama\n' "$listen"
    printf '  servers:\n'
    for node in "$@"; do printf '   - 127.0.0.1:%s:1\n' "${PORT[$node]}"; done
  } >"$path"
}

# A loopback port that was free a moment ago.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_nutcracker NAME NODE...: nutcracker for a pool of NODEs, pool file $TMP/NAME.yml; sets
# PID[NAME] and PORT[NAME]. Retries on a new port when its port was taken meanwhile.
start_nutcracker() {
  local name=$1 attempt listen stats i
  shift
  for ((attempt = 0; attempt < 5; attempt++)); do
    listen=$(free_port)
    stats=$(free_port)
    pool_file "$TMP/$name.yml" "$listen" "$@"
    # shellcheck disable=SC2046  # client_pin is a flag list
    $(client_pin) "$NUTCRACKER" -c "$TMP/$name.yml" -o "$TMP/$name.log" -s "$stats" \
      -a 127.0.0.1 >"$TMP/$name.out" 2>&1 &
    PID[$name]=$!
    PORT[$name]=$listen
    STARTED_PIDS+=("$!")
    for ((i = 0; i < 100; i++)); do
      is_running "${PID[$name]}" || break
      if (exec 3<>"/dev/tcp/127.0.0.1/$listen") 2>/dev/null && is_running "${PID[$name]}"; then
        echo "$PROG: $name started, pid ${PID[$name]}, port $listen" >&2
        return 0
      fi
      sleep 0.05
    done
    is_running "${PID[$name]}" && die "$name did not accept connections within 5 s"
    wait "${PID[$name]}" 2>/dev/null || true
    echo "$PROG: $name exited at startup ($(tail -1 "$TMP/$name.log")); retrying" >&2
  done
  die "$name did not start in 5 attempts: $(tail -3 "$TMP/$name.log")"
}

# bench_run SETUP PHASE PORT ARGS...: one warmcache-bench run, its JSON in $TMP/SETUP.PHASE.json.
bench_run() {
  local setup=$1 phase=$2 port=$3 rc=0
  shift 3
  # shellcheck disable=SC2207
  local cmd=($(client_pin) "$BENCH" --port "$port" --connections "$CONNECTIONS" --threads 1
             --label "$setup" --json "$TMP/$setup.$phase.json" --keys "$KEYS"
             --value-size "$VALUE_SIZE" --value-kind "$VALUE_KIND" "$@")
  if [ -z "${BENCH_COMMAND[$phase]:-}" ]; then
    BENCH_COMMAND[$phase]=$(echo "${cmd[*]}" |
      sed -E 's/--port [0-9]+/--port <nutcracker>/; s/--label [^ ]+ --json [^ ]+ //')
  fi
  "${cmd[@]}" >"$TMP/$setup.$phase.txt" 2>&1 || rc=$?
  [ -s "$TMP/$setup.$phase.json" ] ||
    die "warmcache-bench $phase failed in $setup: $(tail -3 "$TMP/$setup.$phase.txt")"
  ((rc == 0)) || BUGS+=("$setup: warmcache-bench $phase exited $rc (see its output)")
  echo "$PROG: $setup $phase: $(json_field "$TMP/$setup.$phase.json" keys_per_s) keys/s," \
    "hit ratio $(json_field "$TMP/$setup.$phase.json" hit_ratio)," \
    "bad values $(json_field "$TMP/$setup.$phase.json" bad_values)" >&2
}

# ring_move SETUP ARGS...: warmcachectl ring move OLD -> NEW, timed; output in $TMP/SETUP.move.txt.
ring_move() {
  local setup=$1 t0 rc=0
  shift
  # shellcheck disable=SC2207
  local cmd=($(client_pin) timeout "$MOVE_MAX_TIME" "$CTL" ring move --pool "$TMP/$setup.old.yml"
             --pool-new "$TMP/$setup.new.yml" "$@")
  MOVE_COMMAND[$setup]=$(echo "${cmd[*]}" | sed -E "s#$TMP/##g")
  t0=$(now)
  "${cmd[@]}" >"$TMP/$setup.move.txt" 2>&1 || rc=$?
  MOVE_S[$setup]=$(since "$t0")
  ((rc == 0)) || BUGS+=("$setup: ring move exited $rc: $(tail -2 "$TMP/$setup.move.txt")")
  echo "$PROG: $setup: ring move took ${MOVE_S[$setup]} s: $(grep '^total:' "$TMP/$setup.move.txt")" >&2
}

run_setup() {
  local setup=$1 node
  for node in "${NODES[@]}"; do
    mkdir -p "$TMP/$setup.$node-data" "$TMP/$setup.$node-snap"
    start_server "$setup.$node" "$WARMCACHED" -m "$MEMORY_MB" --data-dir "$TMP/$setup.$node-data" \
      --snapshot-dir "$TMP/$setup.$node-snap"
    PORT[$node]=${PORT[$setup.$node]}
  done
  start_nutcracker "$setup.old" node0 node1 node2
  wait_for_quiet
  bench_run "$setup" load "${PORT[$setup.old]}" --mode load --max-time "$LOAD_MAX_TIME"
  stop_server "$setup.old"
  # The change: clients now use NEW, with the fourth node (already running, empty).
  start_nutcracker "$setup.new" node0 node1 node2 node3
  case $setup in
    handoff) wait_for_quiet; ring_move "$setup" ;;
    handoff_delete) wait_for_quiet; ring_move "$setup" --delete-moved ;;
  esac
  wait_for_quiet
  bench_run "$setup" verify "${PORT[$setup.new]}" --mode verify --multiget "$MULTIGET" \
    --max-time "$VERIFY_MAX_TIME"
  if [ "$setup" != cold ] && [ "$(json_field "$TMP/$setup.verify.json" hits)" != "$KEYS" ]; then
    BUGS+=("$setup: $(json_field "$TMP/$setup.verify.json" hits) of $KEYS keys read back after the move")
  fi
  if [ "$(json_field "$TMP/$setup.verify.json" bad_values)" != 0 ]; then
    BUGS+=("$setup: wrong values read back through the new pool")
  fi
  stop_server "$setup.new"
  for node in "${NODES[@]}"; do
    stop_server "$setup.$node"
    rm -rf -- "$TMP/$setup.$node-data" "$TMP/$setup.$node-snap"
  done
}

# move_total SETUP FIELD: a count from the move's "total:" line ("-" without a move).
move_total() {
  local line
  line=$(grep -m1 '^total:' "$TMP/$1.move.txt" 2>/dev/null) || { echo -; return; }
  echo "$line" | grep -oE "[:,] $2 [0-9]+" | grep -oE '[0-9]+$' || echo -
}

label() {
  case $1 in
    cold) echo "no hand-off" ;;
    handoff) echo "\`ring move\`" ;;
    handoff_delete) echo "\`ring move --delete-moved\`" ;;
  esac
}

rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (n == "-" || s == "" || s == 0) print "-"; else printf "%.0f", n / s }'; }
pct() { awk -v a="$1" 'BEGIN { printf "%.1f%%", 100 * a }'; }

results_table() {
  local setup scanned moved
  echo "| setup | moved | already present | deleted | move wall time | items scanned/s | items moved/s | hits through NEW | hit ratio | wrong values |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for setup in $SETUPS; do
    scanned=$(move_total "$setup" scanned)
    moved=$(move_total "$setup" moved)
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(label "$setup")" "$moved" \
      "$(move_total "$setup" "already present")" "$(move_total "$setup" deleted)" \
      "$(if [ -n "${MOVE_S[$setup]:-}" ]; then printf '%.2f s' "${MOVE_S[$setup]}"; else echo -; fi)" \
      "$(rate "$scanned" "${MOVE_S[$setup]:-}")" "$(rate "$moved" "${MOVE_S[$setup]:-}")" \
      "$(json_field "$TMP/$setup.verify.json" hits)" \
      "$(pct "$(json_field "$TMP/$setup.verify.json" hit_ratio)")" \
      "$(json_field "$TMP/$setup.verify.json" bad_values)"
  done
}

write_section() {
  local cpu setup
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  cat <<MD
## Warm hand-off (issue #6)

Generated by \`bench/handoff.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'), tree $TREE_STATE); rerun it to
refresh this section. **All figures come from one run** on a shared $(nproc)-core machine.
$(if ((SMOKE)); then echo "**Smoke run (SMOKE=1, $KEYS keys): checks the script, not a measurement.**"; fi)

- CPUs: $(nproc), ${cpu:-unknown model}; kernel $(uname -r); Debian $(cat /etc/debian_version 2>/dev/null || echo unknown)
- warmcached: $(binary_version "$WARMCACHED"); nutcracker: $("$NUTCRACKER" -V 2>&1 | head -1)
- $(if ((PIN)); then echo "Placement: the four nodes pinned to CPU 0; nutcracker, warmcache-bench and warmcachectl to CPU 1."; else echo "Placement: nothing pinned (PIN=0)."; fi)

Each setup starts four fresh nodes (\`$SERVER_ARGS -m $MEMORY_MB\`, a \`--data-dir\` and a
\`--snapshot-dir\` each), loads $KEYS keys of $VALUE_SIZE B (\`--value-kind $VALUE_KIND\`) through
nutcracker with the OLD pool (three nodes, md5, ketama, equal weights), then switches to a
nutcracker with the NEW pool (the same three plus the fourth) and reads every key through it
(\`--mode verify\`, $MULTIGET keys per get, every value checked). In the hand-off setups
\`warmcachectl ring move\` runs between the switch and the read. "move wall time" is the whole
command, snapshots included (each node first saves RAM's unsaved items, then writes its file);
items/s divide by it. The nodes' ports differ per setup, so their rings, and the share of keys
that moves, differ slightly.

$(results_table)

What \`ring move\` printed, per node and in total:

MD
  for setup in $SETUPS; do
    [ -s "$TMP/$setup.move.txt" ] || continue
    printf '%s:\n\n```\n%s\n```\n\n' "$(label "$setup")" "$(cat "$TMP/$setup.move.txt")"
  done
  cat <<MD
Commands (\`<nutcracker>\`: the pool's listen port):

- load: \`${BENCH_COMMAND[load]:-}\`
- read: \`${BENCH_COMMAND[verify]:-}\`
MD
  for setup in $SETUPS; do
    [ -n "${MOVE_COMMAND[$setup]:-}" ] && echo "- $(label "$setup"): \`${MOVE_COMMAND[$setup]}\`"
  done
  cat <<MD

### Raw results

One JSON line per warmcache-bench run, in run order (\`label\` names the setup, \`mode\` the phase).

\`\`\`json
$(for setup in $SETUPS; do cat "$TMP/$setup.load.json" "$TMP/$setup.verify.json"; done)
\`\`\`
MD
}

print_summary() {
  local setup
  for setup in $SETUPS; do
    echo "$PROG: $setup: hit ratio through NEW $(json_field "$TMP/$setup.verify.json" hit_ratio)" \
      "$(if [ -n "${MOVE_S[$setup]:-}" ]; then echo "after a ${MOVE_S[$setup]} s move of $(move_total "$setup" moved) items"; fi)"
  done
}

main "$@"
