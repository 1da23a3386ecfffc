# SPDX-License-Identifier: BSD-3-Clause
# Sourced by bench/restart.sh: its section of docs/benchmarks.md, from the JSON line of each
# warmcache-bench run ($TMP/NAME.PHASE.1.json) and what the script measured around them.

label() {
  case $1 in
    warmcached) echo "warmcached -m $MEMORY_MB" ;;
    warmcached_small) echo "warmcached -m $SMALL_MEMORY_MB" ;;
    warmcached_snapshot) echo "warmcached --durability snapshot" ;;
    warmcached_wt) echo "warmcached --durability write-through" ;;
    memcached) echo "memcached" ;;
    memcached_e) echo "memcached -e /dev/shm/FILE" ;;
    *) echo "$1" ;;
  esac
}

# field NAME PHASE FIELD: one field of a run's JSON line, or "-" when that run did not happen.
field() {
  local file="$TMP/$1.$2.1.json" v
  [ -s "$file" ] || { echo -; return; }
  v=$(json_field "$file" "$3")
  echo "${v:--}"
}
fixed() { if [ "$1" = - ]; then echo -; else awk -v a="$1" -v d="$2" 'BEGIN { printf "%.*f", d, a }'; fi; }
pct() { if [ "$1" = - ]; then echo -; else awk -v a="$1" 'BEGIN { printf "%.1f%%", 100 * a }'; fi; }
ms() { if [ "$1" = - ]; then echo -; else awk -v a="$1" 'BEGIN { printf "%.0f ms", 1000 * a }'; fi; }
dash() { echo "${1:--}"; }
flag_if() { if [ "$1" != - ] && [ "$1" != 0 ]; then echo "**$1**"; else echo "$1"; fi; }

stop_signal() { if [ "$1" = memcached_e ]; then echo SIGUSR1; else echo SIGTERM; fi; }

reload_cell() {
  case ${RELOAD_S[$1]:--} in
    -) echo "n/a" ;;
    absent) echo "no such stat" ;;
    timeout) echo "not done in ${RELOAD_MAX_TIME} s" ;;
    *) echo "$(fixed "${RELOAD_S[$1]}" 2) s" ;;
  esac
}

clean_table() {
  local name hits
  echo "| server | stop | stop took | exec → first reply | reload done | read-back hits | wrong values" \
    "| warm_start | GETs before: p50 / p99 µs | first ${ZIPF_DURATION} s after: p50 / p99 µs | zipf hit ratio before → after |"
  echo "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|"
  for name in $CLEAN_SERVERS; do
    hits=$(field "$name" verify hits)
    printf '| %s | %s | %s s | %s | %s | %s (%s) | %s | %s | %s / %s | %s / %s | %s → %s |\n' \
      "$(label "$name")" "$(stop_signal "$name")" "$(fixed "${STOP_S[$name]:--}" 2)" \
      "$(ms "${READY_S[$name.ready]:--}")" "$(reload_cell "$name")" "$hits" \
      "$(pct "$(awk -v h="$hits" -v n="$KEYS" 'BEGIN { print (h == "-" ? "-" : h / n) }')")" \
      "$(flag_if "$(field "$name" verify bad_values)")" "$(dash "$(stat_value "$name" after warm_start)")" \
      "$(field "$name" before p50_us)" "$(field "$name" before p99_us)" \
      "$(field "$name" after p50_us)" "$(field "$name" after p99_us)" \
      "$(pct "$(field "$name" before hit_ratio)")" "$(pct "$(field "$name" after hit_ratio)")"
  done
}

crash_table() {
  local name
  echo "| server | sets acknowledged before kill -9 | keys written | exec → first reply | hits" \
    "| current | newer (unacknowledged, landed) | stale | corrupt | misses | acknowledged writes lost | warm_start |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for name in $CRASH_SERVERS; do
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(label "$name")" \
      "$(field "$name" write sets_acked)" "$(field "$name" write keys_written)" \
      "$(ms "${READY_S[$name.crash_ready]:--}")" "$(field "$name" check hits)" \
      "$(field "$name" check current)" "$(field "$name" check newer)" \
      "$(flag_if "$(field "$name" check stale)")" "$(flag_if "$(field "$name" check corrupt)")" \
      "$(field "$name" check misses)" "$(field "$name" check lost_acked)" \
      "$(dash "$(stat_value "$name" crash warm_start)")"
  done
}

cost_table() {
  local mix phase s w
  echo "| mix (get:set) | snapshot req/s | write-through req/s | **write-through / snapshot** |" \
    "snapshot p50 / p99 µs | write-through p50 / p99 µs | p99 ratio | server CPU snapshot / write-through |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for mix in $COST_MIXES; do
    phase="cost_${mix/:/_}"
    s=$(field warmcached_cost_snapshot "$phase" requests_per_s)
    w=$(field warmcached_cost_wt "$phase" requests_per_s)
    printf '| %s | %s | %s | **%s** | %s / %s | %s / %s | %s | %s%% / %s%% |\n' "$mix" "$(int "$s")" \
      "$(int "$w")" "$(ratio "$w" "$s")" \
      "$(field warmcached_cost_snapshot "$phase" p50_us)" "$(field warmcached_cost_snapshot "$phase" p99_us)" \
      "$(field warmcached_cost_wt "$phase" p50_us)" "$(field warmcached_cost_wt "$phase" p99_us)" \
      "$(ratio "$(field warmcached_cost_wt "$phase" p99_us)" "$(field warmcached_cost_snapshot "$phase" p99_us)")" \
      "$(run_column warmcached_cost_snapshot "$phase" 12)" "$(run_column warmcached_cost_wt "$phase" 12)"
  done
}

run_column() { awk -F'\t' -v n="$1" -v p="$2" -v c="$3" '$1 == n && $2 == p { print $c }' "$RUNS"; }

has() { [[ " $SCENARIOS " == *" $1 "* ]]; }

commands() {
  local name
  for name in "$@"; do echo "${SERVER_COMMAND[$name]//$TMP/<tmp>}" | sed -E "s#/dev/shm/warmcache-restart\.[A-Za-z0-9]+#/dev/shm/<file>#g"; done
}

clean_section() {
  cat <<MD
### 1. Clean restart: $KEYS keys of $VALUE_SIZE B

Each server: load $KEYS keys (\`--value-kind $VALUE_KIND\`), $ZIPF_DURATION s of zipf($ZIPF_THETA) GETs
("before"), stop, start the same command on the same port, then at once $ZIPF_DURATION s of the
same GETs ("first $ZIPF_DURATION s after") and a read-back of every key, checked byte for byte.
"exec → first reply": from just before the restart's exec to the first \`version\` answered on a
fresh connection (\`warmcache-bench --mode ready\` tries every $POLL_MS ms, from CPU 1). "reload
done": from the same exec until \`stats\` shows \`warm_reload_state done\` (polled every
$RELOAD_POLL s; warmcached only). "stop took": from the signal to the process exit. A restart
starts at the next wall-clock second: memcached -e refuses restart metadata written in the
current second (\`restart incompatible due to setting for [stop_time]\`), so the script waits for
every server alike.

$(clean_table)

Servers (first start; the restart is the same command with \`-p <that port>\`):

\`\`\`
$(commands $CLEAN_SERVERS)
\`\`\`

\`\`\`
${BENCH_COMMAND[load]}
${BENCH_COMMAND[before]}
${BENCH_COMMAND[ready]}
${BENCH_COMMAND[verify]}
\`\`\`
MD
}

crash_section() {
  cat <<MD
### 2. kill -9 during a write load: $CRASH_KEYS keys

A writer (\`--mode write\`, $WRITE_CONNECTIONS connections) sets versioned $VALUE_SIZE B values in
rounds: key k gets version 1, 2, ... with a header naming the version and a body generated from
(key, version), one set per connection per round, so no key ever has two sets in flight and every
STORED reply is an exact acknowledgement. The server gets SIGKILL $KILL_AFTER s after the writer
starts; the writer records, per key, the last version sent and the last acknowledged. After the
restart \`--mode check\` reads every key: "current" is the last acknowledged version, "newer" one
sent later but not acknowledged (allowed), "stale" older than the last acknowledged (never
allowed), "corrupt" bytes no write sent (never allowed); "acknowledged writes lost" counts the
misses and stale values of keys with an acknowledged write (0 required with write-through).

$(crash_table)

\`\`\`
$(commands $CRASH_SERVERS)
${BENCH_COMMAND[write]}
${BENCH_COMMAND[check]}
\`\`\`
MD
}

cost_section() {
  cat <<MD
### 3. What write-through costs

A fresh warmcached with \`--durability snapshot\`, then one with \`--durability write-through\`,
each loaded with $KEYS keys of $VALUE_SIZE B, then $COST_DURATION s (after $COST_WARMUP s warm-up) of
each mix, uniform keys, $CONNECTIONS connections with one request in flight each. One run each:
read the ratios, not the absolute figures.

$(cost_table)

\`\`\`
$(commands warmcached_cost_snapshot warmcached_cost_wt)
${BENCH_COMMAND[cost_load]}
$(for mix in $COST_MIXES; do echo "${BENCH_COMMAND[cost_${mix/:/_}]:-}"; done)
\`\`\`
MD
}

write_section() {
  local cpu note
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  cat <<MD
## Restart and crash (issue #5)

Generated by \`bench/restart.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'), tree $TREE_STATE); rerun it to
refresh this section. **All figures come from one run** on a shared 2-core virtual machine: trust
the hit ratios and the stale/corrupt/lost counts exactly, timings to within their noise.
Every server gets \`$SERVER_ARGS\` and \`-m $MEMORY_MB\`$([[ " $CLEAN_SERVERS " == *" warmcached_small "* ]] && echo " (the \`-m $SMALL_MEMORY_MB\` row excepted)")

- CPUs: $(nproc), ${cpu:-unknown model}; kernel $(uname -r); Debian $(cat /etc/debian_version 2>/dev/null || echo unknown)
- memcached: $(binary_version "$MEMCACHED")
- warmcached: $(binary_version "$WARMCACHED")
- $(if ((PIN)); then echo "Placement: servers pinned to CPU 0, warmcache-bench and the stats pollers to CPU 1."; else echo "Placement: nothing pinned (PIN=0)."; fi)
MD
  for note in "${NOTES[@]}"; do echo "- **$note**"; done
  echo
  if has clean; then clean_section; echo; fi
  if has crash; then crash_section; echo; fi
  if has cost && [ -s "$TMP/warmcached_cost_wt.cost_load.1.json" ]; then cost_section; echo; fi
  cat <<MD
### Raw results

One JSON line per warmcache-bench run, in run order (\`label\` names the server, \`mode\` the phase).

\`\`\`json
$(ls -tr "$TMP"/*.1.json | xargs cat)
\`\`\`
MD
}

# The end-of-run lines on stderr.
print_summary() {
  local name
  if has clean; then
    for name in $CLEAN_SERVERS; do
      echo "$PROG: clean $name: first reply $(ms "${READY_S[$name.ready]:--}"), read-back" \
        "$(field "$name" verify hits)/$KEYS hits, reload $(reload_cell "$name")"
    done
  fi
  if has crash; then
    for name in $CRASH_SERVERS; do
      echo "$PROG: crash $name: $(head -1 "$TMP/$name.check.1.txt" 2>/dev/null)"
    done
  fi
}
