#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The restart and crash benchmark (issue #5). One run, each server a fresh instance with the same
# -t, one after the other:
#  1. clean restart: load KEYS x VALUE_SIZE B JSON, ZIPF_DURATION s of zipf GETs, stop (warmcached
#     and memcached: SIGTERM; memcached -e FILE on /dev/shm: SIGUSR1, its warm restart), start the
#     same command again on the same port, then: time from exec to the first answered `version`
#     (a fresh connection every POLL_MS ms), ZIPF_DURATION s of zipf GETs right away, every key read
#     back and checked, and for warmcached the time until `stats` shows warm_reload_state done.
#     Rows: warmcached, warmcached_small (-m SMALL_MEMORY_MB, most values on disk), memcached,
#     memcached_e.
#  2. kill -9 under writes: versioned sets over CRASH_KEYS keys, SIGKILL after KILL_AFTER s,
#     restart, read every key against the writer's log of acknowledged versions: current, newer,
#     stale, corrupt, missing, acknowledged writes lost. Rows: warmcached_snapshot,
#     warmcached_wt (--durability write-through), memcached_e.
#  3. write-through cost: warmcached with --durability snapshot, then write-through, each loaded
#     with KEYS keys, then COST_DURATION s of each mix in COST_MIXES.
# Writes its section of docs/benchmarks.md (between the restart markers).
#
# Usage: bench/restart.sh [path/to/warmcached]        (default: build/warmcached)
# Builds nothing: build warmcached and warmcache-bench first. Servers listen on 127.0.0.1 (first
# start: ephemeral port; a restart reuses it) and are stopped by PID; warmcached's data dirs live
# under one mktemp dir, memcached's -e file under /dev/shm; the EXIT trap removes both.
# Settings (defaults in brackets):
#   SCENARIOS ["clean crash cost"]: which of the three parts, in this order
#   CLEAN_SERVERS ["warmcached warmcached_small memcached memcached_e"]
#   CRASH_SERVERS ["warmcached_snapshot warmcached_wt memcached_e"]
#   MEMCACHED [/usr/bin/memcached]  BENCH [build/warmcache-bench]  OUT [docs/benchmarks.md]
#   SERVER_ARGS ["-t 2"] every server   MEMORY_MB [1024] every -m   SMALL_MEMORY_MB [64]
#   WARMCACHED_ARGS ["--data-dir @DATA_DIR@ --disk-limit 4G"]: @DATA_DIR@ becomes a fresh dir
#     that the restart reuses
#   CRASH_SNAPSHOT_ARGS ["--durability snapshot --snapshot-interval 2"]
#   CRASH_WT_ARGS ["--durability write-through"]
#   KEYS [200000] VALUE_SIZE [1000] VALUE_KIND [json]
#   LOAD_MAX_TIME [120] VERIFY_MAX_TIME [120] VERIFY_CONNECTIONS [8] VERIFY_DEPTH [8] MULTIGET [16]
#   ZIPF_DURATION [10] ZIPF_THETA [0.99] CONNECTIONS [50]: the GETs before the stop and after the
#     restart
#   POLL_MS [5] READY_MAX_TIME [60]: the first-reply probe   RELOAD_POLL [0.1] RELOAD_MAX_TIME [120]
#   STOP_MAX_TIME [120]: s a clean stop may take before SIGKILL (and a failed run)
#   CRASH_KEYS [100000] WRITE_CONNECTIONS [8] WRITE_DURATION [8] KILL_AFTER [4]
#   COST_MIXES ["90:10 50:50 0:100"] COST_DURATION [10] COST_WARMUP [2]
#   PIN [1]: servers on CPU 0, the clients on CPU 1
#   QUIET_MAX [25] QUIET_WAIT [10]: before each load and timed phase, wait up to QUIET_WAIT s for
#     other processes to use under QUIET_MAX% of a core
# Exit status: 0 every check passed; 1 a wrong, stale or corrupt value from any server, an
# acknowledged write lost by warmcached --durability write-through, warmcached below 100% of
# keys after a clean restart, or any error from warmcached (figures still written); 2 bad setup.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ $# -gt 0 ]; then WARMCACHED=$(realpath -m -- "$1"); fi
cd "$HERE/.."

WARMCACHED=${WARMCACHED:-build/warmcached}
MEMCACHED=${MEMCACHED:-/usr/bin/memcached}
BENCH=${BENCH:-build/warmcache-bench}
OUT=${OUT:-docs/benchmarks.md}
SCENARIOS=${SCENARIOS:-"clean crash cost"}
CLEAN_SERVERS=${CLEAN_SERVERS:-"warmcached warmcached_small memcached memcached_e"}
CRASH_SERVERS=${CRASH_SERVERS:-"warmcached_snapshot warmcached_wt memcached_e"}
SERVER_ARGS=${SERVER_ARGS:-"-t 2"}
MEMORY_MB=${MEMORY_MB:-1024}
SMALL_MEMORY_MB=${SMALL_MEMORY_MB:-64}
WARMCACHED_ARGS=${WARMCACHED_ARGS-"--data-dir @DATA_DIR@ --disk-limit 4G"}
CRASH_SNAPSHOT_ARGS=${CRASH_SNAPSHOT_ARGS-"--durability snapshot --snapshot-interval 2"}
CRASH_WT_ARGS=${CRASH_WT_ARGS-"--durability write-through"}
KEYS=${KEYS:-200000}
VALUE_SIZE=${VALUE_SIZE:-1000}
VALUE_KIND=${VALUE_KIND:-json}
LOAD_MAX_TIME=${LOAD_MAX_TIME:-120}
VERIFY_MAX_TIME=${VERIFY_MAX_TIME:-120}
VERIFY_CONNECTIONS=${VERIFY_CONNECTIONS:-8}
VERIFY_DEPTH=${VERIFY_DEPTH:-8}
MULTIGET=${MULTIGET:-16}
ZIPF_DURATION=${ZIPF_DURATION:-10}
ZIPF_THETA=${ZIPF_THETA:-0.99}
CONNECTIONS=${CONNECTIONS:-50}
POLL_MS=${POLL_MS:-5}
READY_MAX_TIME=${READY_MAX_TIME:-60}
RELOAD_POLL=${RELOAD_POLL:-0.1}
RELOAD_MAX_TIME=${RELOAD_MAX_TIME:-120}
STOP_MAX_TIME=${STOP_MAX_TIME:-120}
CRASH_KEYS=${CRASH_KEYS:-100000}
WRITE_CONNECTIONS=${WRITE_CONNECTIONS:-8}
WRITE_DURATION=${WRITE_DURATION:-8}
KILL_AFTER=${KILL_AFTER:-4}
COST_MIXES=${COST_MIXES:-"90:10 50:50 0:100"}
COST_DURATION=${COST_DURATION:-10}
COST_WARMUP=${COST_WARMUP:-2}
PIN=${PIN:-1}
QUIET_MAX=${QUIET_MAX:-25}
QUIET_WAIT=${QUIET_WAIT:-10}

source "$HERE/lib/servers.sh"
source "$HERE/lib/report.sh"  # tree_state, binary_version, int, ratio
source "$HERE/lib/sections.sh"
source "$HERE/lib/restart_report.sh"

declare -A STOP_S READY_S RELOAD_S STATS_FILE EXTRA_FLAGS
FAILED_RUNS=0
BUGS=()   # each makes the exit status 1
NOTES=()  # what did not run as asked, for the report
SHM_FILE=""
RELOAD_PID=""

main() {
  check_setup
  TREE_STATE=$(tree_state)
  TMP=$(mktemp -d /tmp/warmcache-restart.XXXXXX)
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  RUNS="$TMP/runs.tsv"
  : >"$RUNS"
  : >"$TMP/all.json"
  local started=$SECONDS name scenario
  for scenario in $SCENARIOS; do
    case $scenario in
      clean) for name in $CLEAN_SERVERS; do clean_restart "$name"; done ;;
      crash) for name in $CRASH_SERVERS; do crash_restart "$name"; done ;;
      cost) write_through_cost ;;
    esac
  done
  write_section >"$TMP/section.md"
  replace_section "$OUT" restart "$TMP/section.md"
  echo "$PROG: wrote the restart section of $OUT in $((SECONDS - started)) s"
  print_summary
  if ((${#BUGS[@]} > 0)); then
    local bug
    for bug in "${BUGS[@]}"; do echo "$PROG: FAIL: $bug" >&2; done
    exit 1
  fi
}

check_setup() {
  local name scenario
  [ -x "$BENCH" ] || die "not an executable: $BENCH (build first: cmake --build build)"
  "$BENCH" --help | grep -q -- '--mode.*write' || die "$BENCH has no write mode: rebuild it"
  for scenario in $SCENARIOS; do
    case $scenario in clean | crash | cost) ;; *) die "unknown scenario '$scenario'" ;; esac
  done
  for name in $CLEAN_SERVERS $CRASH_SERVERS; do
    case $name in
      warmcached*) [ -x "$WARMCACHED" ] || die "not an executable: $WARMCACHED" ;;
      memcached | memcached_e) [ -x "$MEMCACHED" ] || die "not an executable: $MEMCACHED" ;;
      *) die "unknown server '$name'" ;;
    esac
  done
  if ((PIN)) && [ "$(nproc)" -lt 2 ]; then
    echo "$PROG: fewer than 2 CPUs, not pinning" >&2
    PIN=0
  fi
  # shellcheck disable=SC2086  # flag lists by design
  if [[ " $SCENARIOS " == *" crash "* ]]; then
    if [[ " $CRASH_SERVERS " == *" warmcached_snapshot "* ]]; then
      EXTRA_FLAGS[warmcached_snapshot]=$CRASH_SNAPSHOT_ARGS
    fi
    if [[ " $CRASH_SERVERS " == *" warmcached_wt "* ]]; then EXTRA_FLAGS[warmcached_wt]=$CRASH_WT_ARGS; fi
  fi
}

# Stops the reload poller, then what servers.sh's cleanup stops (servers, bench clients it
# started) and removes ($TMP); and memcached's -e file and its .meta.
on_exit() {
  if [ -n "$RELOAD_PID" ]; then kill "$RELOAD_PID" 2>/dev/null || true; fi
  cleanup
  if [ -n "$SHM_FILE" ]; then rm -f -- "$SHM_FILE" "$SHM_FILE.meta"; fi
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.3f", b - a }'; }

# The flags that make NAME what it is, on top of SERVER_ARGS. Files go under $TMP and /dev/shm.
server_flags() {
  local data="${WARMCACHED_ARGS//@DATA_DIR@/$TMP/$1-data}"
  case $1 in
    warmcached) echo "-m $MEMORY_MB $data" ;;
    warmcached_small) echo "-m $SMALL_MEMORY_MB $data" ;;
    warmcached_snapshot | warmcached_wt) echo "-m $MEMORY_MB $data ${EXTRA_FLAGS[$1]}" ;;
    warmcached_cost_snapshot) echo "-m $MEMORY_MB $data --durability snapshot" ;;
    warmcached_cost_wt) echo "-m $MEMORY_MB $data --durability write-through" ;;
    memcached) echo "-m $MEMORY_MB" ;;
    memcached_e) echo "-m $MEMORY_MB -e $SHM_FILE" ;;
  esac
}

binary_of() { if [[ $1 == warmcached* ]]; then echo "$WARMCACHED"; else echo "$MEMCACHED"; fi; }

# Fresh files for NAME: an empty data dir, or a new -e file name (memcached creates it).
fresh_files() {
  rm -rf -- "$TMP/$1-data"
  if [[ $1 == warmcached* ]]; then mkdir -p "$TMP/$1-data"; fi
  if [ "$1" = memcached_e ]; then
    if [ -n "$SHM_FILE" ]; then rm -f -- "$SHM_FILE" "$SHM_FILE.meta"; fi
    SHM_FILE=$(mktemp -u /dev/shm/warmcache-restart.XXXXXX)
  fi
}

remove_files() {
  rm -rf -- "$TMP/$1-data"
  if [ "$1" = memcached_e ] && [ -n "$SHM_FILE" ]; then rm -f -- "$SHM_FILE" "$SHM_FILE.meta"; fi
}

# stop_with NAME SIGNAL: sends SIGNAL, waits up to STOP_MAX_TIME s for the exit (then SIGKILL and
# a failed run), sets STOP_S[NAME] to the seconds it took.
stop_with() {
  local name=$1 signal=$2 pid=${PID[$1]} t0
  t0=$(now)
  kill "-$signal" "$pid" 2>/dev/null || true
  while is_running "$pid" && awk -v e="$(since "$t0")" -v m="$STOP_MAX_TIME" 'BEGIN { exit !(e < m) }'; do
    sleep 0.02
  done
  STOP_S[$name]=$(since "$t0")
  if is_running "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    STOP_S[$name]="killed after $STOP_MAX_TIME"
    BUGS+=("$name did not exit within $STOP_MAX_TIME s of SIG$signal")
  fi
  wait "$pid" 2>/dev/null || true
}

# bench_cmd NAME PHASE ARGS...: the warmcache-bench command line of a restart mode (ready, write,
# check) into TOOL_CMD, its JSON going to $TMP/NAME.PHASE.1.json; remembered for the report.
bench_cmd() {
  local name=$1 phase=$2
  shift 2
  # shellcheck disable=SC2207
  TOOL_CMD=($(client_pin) "$BENCH" --port "${PORT[$name]}" --label "$name"
            --json "$TMP/$name.$phase.1.json" "$@")
  if [ -z "${BENCH_COMMAND[$phase]:-}" ]; then
    BENCH_COMMAND[$phase]=$(echo "${TOOL_CMD[*]}" |
      sed -E 's/--port [0-9]+/--port <port>/; s/--label [^ ]+ --json [^ ]+ //; s#'"$TMP"'/[a-z_]+\.#<tmp>/NAME.#g')
  fi
}

# restart_server NAME PHASE: starts NAME's command again on its previous port, with the first-reply
# probe already polling; READY_S[NAME.PHASE] = seconds from exec to the first answered request.
restart_server() {
  local name=$1 phase=$2 user_args=() t0 probe flags
  flags=$(server_flags "$name")
  [ "$(id -u)" -eq 0 ] && user_args=(-u root)
  # shellcheck disable=SC2206,SC2207  # flag lists by design
  local cmd=($(server_pin) "$(binary_of "$name")" -p "${PORT[$name]}" -U 0 -l 127.0.0.1 $SERVER_ARGS
             "${user_args[@]}" $flags)
  bench_cmd "$name" "$phase" --mode ready --poll-ms "$POLL_MS" --max-time "$READY_MAX_TIME"
  "${TOOL_CMD[@]}" >"$TMP/$name.$phase.1.txt" 2>&1 &
  probe=$!
  STARTED_PIDS+=("$probe")
  sleep 0.05  # the probe is polling before the server exists
  t0=$(now)
  "${cmd[@]}" >>"$TMP/$name.log" 2>&1 &
  PID[$name]=$!
  STARTED_PIDS+=("$!")
  RESTART_T0=$t0
  wait "$probe" || true
  local epoch
  epoch=$(json_field "$TMP/$name.$phase.1.json" ready_epoch_s 2>/dev/null || true)
  if [ -z "$epoch" ] || [ "$(json_field "$TMP/$name.$phase.1.json" ready)" != true ]; then
    is_running "${PID[$name]}" || die "$name exited at restart: $(tail -3 "$TMP/$name.log")"
    die "$name did not answer within $READY_MAX_TIME s of its restart"
  fi
  READY_S[$name.$phase]=$(since "$t0" "$epoch")
  echo "$PROG: $name restarted, pid ${PID[$name]}, first reply after ${READY_S[$name.$phase]} s" >&2
}

# Waits for the next wall-clock second: memcached -e refuses restart metadata written in the
# current second ("restart incompatible due to setting for [stop_time]"), found while writing this.
next_second() { sleep "$(awk -v t="$(now)" 'BEGIN { printf "%.3f", 1.02 - (t - int(t)) }')"; }

# Background poll of warmcached's stats until warm_reload_state is done; the seconds since the
# restart's exec go to $TMP/NAME.reload ("absent" if the server has no such stat, "timeout").
start_reload_poll() {
  local name=$1 port=${PORT[$1]} t0=$RESTART_T0 out="$TMP/$1.reload"
  echo timeout >"$out"
  (
    while awk -v e="$(since "$t0")" -v m="$RELOAD_MAX_TIME" 'BEGIN { exit !(e < m) }'; do
      state=$(server_stats "$port" stats 2>/dev/null | awk '$2 == "warm_reload_state" { print $3 }')
      if [ -z "$state" ]; then echo absent >"$out"; exit 0; fi
      if [ "$state" = "done" ]; then since "$t0" >"$out"; exit 0; fi
      sleep "$RELOAD_POLL"
    done
  ) &
  RELOAD_PID=$!
  if ((PIN)); then taskset -cp 1 "$RELOAD_PID" >/dev/null 2>&1 || true; fi
}

wait_reload_poll() {
  wait "$RELOAD_PID" 2>/dev/null || true
  RELOAD_PID=""
  RELOAD_S[$1]=$(cat "$TMP/$1.reload")
}

save_stats() {
  STATS_FILE[$1.$2]="$TMP/$1.$2.stats"
  server_stats "${PORT[$1]}" stats >"${STATS_FILE[$1.$2]}" 2>/dev/null ||
    echo "$PROG: no stats from $1" >&2
}

stat_value() { awk -v s="$3" '$1 == "STAT" && $2 == s { print $3 }' "${STATS_FILE[$1.$2]:-/dev/null}"; }

zipf_args() {
  echo "--mode mixed --ratio 100 --distribution zipf --zipf-theta $ZIPF_THETA --keys $KEYS" \
    "--value-size $VALUE_SIZE --value-kind $VALUE_KIND --duration $ZIPF_DURATION --warmup 0"
}

# Scenario 1 for one server.
clean_restart() {
  local name=$1 flags signal=TERM
  [ "$name" = memcached_e ] && signal=USR1
  fresh_files "$name"
  flags=$(server_flags "$name")
  # shellcheck disable=SC2086  # flag lists by design
  start_server "$name" "$(binary_of "$name")" $flags
  wait_for_quiet
  run_bench "$name" load 1 --mode load --keys "$KEYS" --value-size "$VALUE_SIZE" \
    --value-kind "$VALUE_KIND" --max-time "$LOAD_MAX_TIME"
  # shellcheck disable=SC2046
  run_bench "$name" before 1 $(zipf_args)
  save_stats "$name" before
  stop_with "$name" "$signal"
  next_second
  restart_server "$name" ready
  if [[ $name == warmcached* ]]; then start_reload_poll "$name"; fi
  # shellcheck disable=SC2046
  run_bench "$name" after 1 $(zipf_args)
  CONNECTIONS=$VERIFY_CONNECTIONS run_bench "$name" verify 1 --mode verify --keys "$KEYS" \
    --value-size "$VALUE_SIZE" --value-kind "$VALUE_KIND" --multiget "$MULTIGET" \
    --load-depth "$VERIFY_DEPTH" --order scattered --max-time "$VERIFY_MAX_TIME"
  if [[ $name == warmcached* ]]; then wait_reload_poll "$name"; fi
  save_stats "$name" after
  stop_server "$name"
  remove_files "$name"
  check_clean "$name"
}

check_clean() {
  local name=$1 phase bad errors hits
  for phase in load before after verify; do
    bad=$(json_field "$TMP/$name.$phase.1.json" bad_values)
    errors=$(json_field "$TMP/$name.$phase.1.json" errors)
    if ((bad > 0)); then
      BUGS+=("$name returned $bad wrong value(s) in the $phase phase")
    elif ((errors > 0)) && [[ $name == warmcached* ]]; then
      BUGS+=("$name reported $errors error(s) in the $phase phase")
    fi
  done
  hits=$(json_field "$TMP/$name.verify.1.json" hits)
  if [[ $name == warmcached* ]] && ((hits < KEYS)); then
    BUGS+=("$name served $hits of $KEYS keys after a clean restart (issue #5 wants all)")
  fi
}

# Scenario 2 for one server.
crash_restart() {
  local name=$1 flags writer
  fresh_files "$name"
  flags=$(server_flags "$name")
  # shellcheck disable=SC2086  # flag lists by design
  start_server "$name" "$(binary_of "$name")" $flags
  wait_for_quiet
  bench_cmd "$name" write --mode write --keys "$CRASH_KEYS" --value-size "$VALUE_SIZE" \
    --value-kind "$VALUE_KIND" --connections "$WRITE_CONNECTIONS" --duration "$WRITE_DURATION" \
    --log "$TMP/$name.log.versions"
  "${TOOL_CMD[@]}" >"$TMP/$name.write.1.txt" 2>&1 &
  writer=$!
  STARTED_PIDS+=("$writer")
  sleep "$KILL_AFTER"
  kill -KILL "${PID[$name]}" 2>/dev/null || true
  wait "${PID[$name]}" 2>/dev/null || true
  wait "$writer" || true
  [ -s "$TMP/$name.write.1.json" ] || die "the writer failed: $(tail -3 "$TMP/$name.write.1.txt")"
  next_second
  restart_server "$name" crash_ready
  bench_cmd "$name" check --mode check --keys "$CRASH_KEYS" --value-size "$VALUE_SIZE" \
    --value-kind "$VALUE_KIND" --multiget "$MULTIGET" --max-time "$VERIFY_MAX_TIME" \
    --log "$TMP/$name.log.versions"
  "${TOOL_CMD[@]}" >"$TMP/$name.check.1.txt" 2>&1 || true
  [ -s "$TMP/$name.check.1.json" ] || die "the check failed: $(tail -3 "$TMP/$name.check.1.txt")"
  cat "$TMP/$name.check.1.txt" >&2
  save_stats "$name" crash
  stop_server "$name"
  remove_files "$name"
  check_crash "$name"
}

check_crash() {
  local name=$1 json="$TMP/$1.check.1.json" stale corrupt lost
  stale=$(json_field "$json" stale)
  corrupt=$(json_field "$json" corrupt)
  lost=$(json_field "$json" lost_acked)
  if ((stale + corrupt > 0)); then
    BUGS+=("$name after kill -9: $stale stale and $corrupt corrupt value(s)")
  fi
  if [ "$(json_field "$json" complete)" != true ]; then BUGS+=("$name: the check did not finish"); fi
  if [ "$name" = warmcached_wt ] && ((lost > 0)); then
    BUGS+=("warmcached --durability write-through lost $lost acknowledged write(s) to kill -9")
  fi
  if [[ $name == warmcached* ]] && (($(json_field "$TMP/$name.write.1.json" error_replies) > 0)); then
    BUGS+=("$name answered sets with errors during the crash writer")
  fi
}

# Scenario 3: the same set-heavy mixes against --durability snapshot and write-through.
write_through_cost() {
  local name mix flags
  for name in warmcached_cost_snapshot warmcached_cost_wt; do
    fresh_files "$name"
    flags=$(server_flags "$name")
    # shellcheck disable=SC2086  # flag lists by design
    start_server "$name" "$WARMCACHED" $flags
    wait_for_quiet
    run_bench "$name" cost_load 1 --mode load --keys "$KEYS" --value-size "$VALUE_SIZE" \
      --value-kind "$VALUE_KIND" --max-time "$LOAD_MAX_TIME"
    for mix in $COST_MIXES; do
      wait_for_quiet
      run_bench "$name" "cost_${mix/:/_}" 1 --mode mixed --ratio "$mix" --keys "$KEYS" \
        --value-size "$VALUE_SIZE" --value-kind "$VALUE_KIND" --duration "$COST_DURATION" \
        --warmup "$COST_WARMUP"
      if (($(json_field "$TMP/$name.cost_${mix/:/_}.1.json" errors) > 0)); then
        BUGS+=("$name reported errors in the $mix mix")
      fi
    done
    stop_server "$name"
    remove_files "$name"
  done
}

main
