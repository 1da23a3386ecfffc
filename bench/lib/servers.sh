# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the bench/*.sh scripts: starting and stopping servers by PID, reading stats, and
# running warmcache-bench. Uses the caller's globals: TMP, PIN, SERVER_ARGS, BENCH, CONNECTIONS,
# RUNS, FAILED_RUNS; BACKEND_PIDS (optional): processes behind the server under test (a proxy's
# nodes), whose CPU each run reports apart from "other".

declare -A PID PORT SERVER_COMMAND BENCH_COMMAND
PROG=${0##*/}  # the script that sourced this file, for messages
STARTED_PIDS=()
BACKEND_PIDS=()
CLK_TCK=$(getconf CLK_TCK)

die() {
  echo "$PROG: $*" >&2
  exit 2
}

# Runs on every exit: stops whatever this script started (by PID, never by name).
cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    if is_running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  wait 2>/dev/null || true
  if [ -n "${TMP:-}" ]; then rm -rf -- "$TMP"; fi
}

# True while the process exists and is not a zombie (our children stay zombies until waited).
is_running() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# pin_to CPU: the taskset prefix that runs a command on CPU, nothing when PIN=0.
pin_to() { ((PIN)) && echo "taskset -c $1"; true; }
server_pin() { pin_to "${SERVER_CPU:-0}"; }  # SERVER_CPU: where start_server puts servers
client_pin() { pin_to 1; }

# start_server NAME BINARY [EXTRA_ARGS...]: binds an ephemeral 127.0.0.1 port, sets
# PID[NAME] and PORT[NAME] from the port file memcached's -p -1 writes.
start_server() {
  local name=$1 binary=$2
  shift 2
  local user_args=()
  [ "$(id -u)" -eq 0 ] && user_args=(-u root)  # memcached refuses to run as root without it
  # shellcheck disable=SC2046,SC2086  # server_pin and SERVER_ARGS are word lists by design
  start_with_port_file "$name" $(server_pin) "$binary" -p -1 -U 0 -l 127.0.0.1 $SERVER_ARGS \
    "${user_args[@]}" "$@"
}

# start_with_port_file NAME COMMAND...: runs COMMAND (which must be given -p -1) in the
# background with MEMCACHED_PORT_FILENAME set, and waits up to 10 s for the port it writes there;
# sets PID[NAME], PORT[NAME] and SERVER_COMMAND[NAME].
start_with_port_file() {
  local name=$1
  shift
  local port_file="$TMP/$name.port" line i
  rm -f -- "$port_file"  # a previous round's file would give a stale port
  MEMCACHED_PORT_FILENAME="$port_file" "$@" >"$TMP/$name.log" 2>&1 &
  PID[$name]=$!
  STARTED_PIDS+=("$!")
  SERVER_COMMAND[$name]="MEMCACHED_PORT_FILENAME=<file> $*"
  for ((i = 0; i < 100; i++)); do
    if line=$(grep -m1 -E '^TCP INET: [0-9]+$' "$port_file" 2>/dev/null); then
      PORT[$name]=${line#TCP INET: }
      echo "$PROG: $name started, pid ${PID[$name]}, port ${PORT[$name]}" >&2
      return 0
    fi
    is_running "${PID[$name]}" || die "$name exited at startup: $(tail -3 "$TMP/$name.log")"
    sleep 0.1
  done
  die "$name wrote no port to $port_file within 10 s"
}

# free_port: a 127.0.0.1 TCP port no socket uses now, for servers that cannot bind an ephemeral
# port and report it (nutcracker). Taken below the kernel's ephemeral range so that no outgoing
# connection grabs it meanwhile; still racy, so callers retry when the server fails to bind.
free_port() {
  local low port hex i
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  ((low > 10000)) || low=32768
  for ((i = 0; i < 100; i++)); do
    port=$((10000 + (RANDOM * 32768 + RANDOM) % (low - 10000)))
    hex=$(printf ':%04X ' "$port")
    if ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '{ print $2, $3 }' | grep -qF -- "$hex"; then
      echo "$port"
      return 0
    fi
  done
  die "found no free TCP port in 100 tries"
}

# wait_accepting NAME PORT: waits up to 10 s until 127.0.0.1:PORT accepts a connection, as long
# as PID[NAME] runs. Returns 1 if the process exited first (its log says why), dies on timeout.
wait_accepting() {
  local name=$1 port=$2 i
  for ((i = 0; i < 100; i++)); do
    # shellcheck disable=SC2016  # expanded by the inner bash
    if timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$port" 2>/dev/null; then return 0; fi
    is_running "${PID[$name]}" || return 1
    sleep 0.1
  done
  die "$name accepted no connection on port $port within 10 s"
}

# SIGTERM, up to 5 s for a clean exit, then SIGKILL.
stop_server() {
  local pid=${PID[$1]} i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    is_running "$pid" || break
    sleep 0.1
  done
  if is_running "$pid"; then
    echo "$PROG: $1 (pid $pid) ignored SIGTERM for 5 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

vm_rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
json_field() { grep -o "\"$2\":[^,}]*" "$1" | head -1 | cut -d: -f2 | tr -d '"'; }

# run_bench NAME SCENARIO ROUND BENCH_ARGS...: one warmcache-bench run against server NAME,
# with that server's CPU use over the run; appends a row to $RUNS (see record_run).
run_bench() {
  local name=$1 scenario=$2 round=$3
  shift 3
  local json="$TMP/$name.$scenario.$round.json" rc=0 ticks0 ticks1 busy0 busy1 back0 back1 t0 t1
  # shellcheck disable=SC2207
  local cmd=($(client_pin) "$BENCH" --port "${PORT[$name]}" --connections "$CONNECTIONS"
             --threads 1 --label "$name" --json "$json" "$@")
  if [ -z "${BENCH_COMMAND[$scenario]:-}" ]; then  # for the report, without run-specific bits
    BENCH_COMMAND[$scenario]=$(echo "${cmd[*]}" |
      sed -E 's/--port [0-9]+/--port <port>/; s/--label [^ ]+ --json [^ ]+ //')
  fi
  ticks0=$(cpu_ticks "${PID[$name]}")
  back0=$(backend_ticks)
  busy0=$(machine_busy_ticks)
  t0=$(date +%s.%N)
  "${cmd[@]}" >"$TMP/$name.$scenario.$round.txt" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  busy1=$(machine_busy_ticks)
  back1=$(backend_ticks)
  ticks1=$(cpu_ticks "${PID[$name]}")
  if ((rc == 2)) || [ ! -s "$json" ]; then
    die "warmcache-bench failed against $name: $(tail -3 "$TMP/$name.$scenario.$round.txt")"
  fi
  ((rc == 0)) || FAILED_RUNS=$((FAILED_RUNS + 1))
  local cpu_pct busy_pct backend_pct
  cpu_pct=$(percent_of_core "$((ticks1 - ticks0))" "$t0" "$t1")
  busy_pct=$(percent_of_core "$((busy1 - busy0))" "$t0" "$t1")
  backend_pct=$(percent_of_core "$((back1 - back0))" "$t0" "$t1")
  record_run "$name" "$scenario" "$round" "$json" "$rc" "$cpu_pct" "$busy_pct" "$backend_pct"
}

# CPU ticks of the BACKEND_PIDS together (0 without any).
backend_ticks() {
  local pid total=0
  for pid in "${BACKEND_PIDS[@]}"; do total=$((total + $(cpu_ticks "$pid"))); done
  echo "$total"
}

# percent_of_core TICKS T0 T1: CPU ticks over [T0, T1] as a percentage of one core.
percent_of_core() {
  awk -v d="$1" -v hz="$CLK_TCK" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", 100 * d / hz / (b - a) }'
}

# Busy ticks of all CPUs together (user nice system irq softirq steal), from /proc/stat.
machine_busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# Row: name scenario round rc req/s keys/s p50 p99 p99.9 hit_ratio errors server% client% JSON
# req-per-server-CPU-s other% backend% (the layout lib/report.sh reads). other%: CPU used by
# everything but this server, its BACKEND_PIDS and warmcache-bench (other people's jobs,
# hypervisor steal), in % of one core.
record_run() {
  local name=$1 scenario=$2 round=$3 json=$4 rc=$5 server_pct=$6 busy_pct=$7 backend_pct=${8:-0}
  local f row=()
  for f in requests_per_s keys_per_s p50_us p99_us p999_us hit_ratio errors; do
    row+=("$(json_field "$json" "$f")")
  done
  local client_pct
  client_pct=$(awk -v c="$(json_field "$json" client_cpu_s)" -v w="$(json_field "$json" wall_s)" \
    'BEGIN { printf "%.0f", (w > 0 ? 100 * c / w : 0) }')
  local per_cpu other_pct
  per_cpu=$(awk -v r="${row[0]}" -v p="$server_pct" 'BEGIN { printf "%.0f", (p > 0 ? r * 100 / p : 0) }')
  other_pct=$(awk -v b="$busy_pct" -v s="$server_pct" -v c="$client_pct" -v k="$backend_pct" \
    'BEGIN { o = b - s - c - k; printf "%.0f", (o > 0 ? o : 0) }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$scenario" "$round" "$rc" \
    "$(IFS=$'\t'; echo "${row[*]}")" "$server_pct" "$client_pct" "$(cat "$json")" "$per_cpu" \
    "$other_pct" "$backend_pct" >>"$RUNS"
  local backend_text=""
  if ((${#BACKEND_PIDS[@]} > 0)); then backend_text=" backend CPU ${backend_pct}%,"; fi
  echo "$PROG: $name $scenario round $round: ${row[0]} req/s, ${row[1]} keys/s," \
    "p50 ${row[2]} us, p99 ${row[3]} us, errors ${row[6]}, server CPU ${server_pct}%,$backend_text" \
    "client CPU ${client_pct}%, other CPU ${other_pct}%" >&2
}

# Before a pair of runs: waits (at most QUIET_WAIT s) until the rest of the machine uses less
# than QUIET_MAX% of a core over one second, so that both runs of the pair start on a quiet
# machine. Gives up quietly: the report shows the interference of every run anyway.
wait_for_quiet() {
  local deadline=$((SECONDS + QUIET_WAIT)) b0 b1 t0 t1 pct
  while :; do
    b0=$(machine_busy_ticks)
    t0=$(date +%s.%N)
    sleep 1
    b1=$(machine_busy_ticks)
    t1=$(date +%s.%N)
    pct=$(percent_of_core "$((b1 - b0))" "$t0" "$t1")
    ((pct < QUIET_MAX)) && return 0
    if ((SECONDS >= deadline)); then
      echo "$PROG: others still use ${pct}% of a core after ${QUIET_WAIT} s; going on" >&2
      return 0
    fi
  done
}

# server_stats PORT COMMAND: the "STAT name value" lines, without \r. Bounded to 5 s.
server_stats() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf "%s\r\n" "$2" >&3
    while IFS= read -r -t 5 line <&3; do
      line=${line%$'"'"'\r'"'"'}
      [ "$line" = END ] && break
      echo "$line"
    done' _ "$1" "$2"
}
