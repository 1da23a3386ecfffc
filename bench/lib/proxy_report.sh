# SPDX-License-Identifier: BSD-3-Clause
# Sourced by bench/proxy.sh: its section of docs/benchmarks.md, from $RUNS (rows as in
# lib/servers.sh; column 17 is the CPU of the three nodes) and what the script measured around
# the runs. Uses lib/report.sh's median, total, per_round, paired_ratios_of and number helpers.

front_label() {
  case $1 in
    warmcache) echo "warmcached --proxy -t 1" ;;
    warmcache_t2) echo "warmcached --proxy -t 2" ;;
    nutcracker_b) echo "nutcracker (2nd instance)" ;;
    *) echo "$1" ;;
  esac
}

has_front() { [[ " $SERVERS " == *" $1 "* ]]; }

# The fronts that have a nutcracker row to be compared with (all the others).
compared_fronts() {
  local name
  has_front nutcracker || return 0
  for name in $SERVERS; do [ "$name" = nutcracker ] || echo "$name"; done
}

front_row() {
  local name=$1 scenario=$2 errors flag=""
  errors=$(total "$name" "$scenario" 11)
  ((errors == 0)) || flag=" **(errors: figures not trustworthy)**"
  printf '| %s | %s | %s | %s | %s | %s | %s%% | %s%% | %s%% | %s%% | %s | %s%s |\n' \
    "$(front_label "$name")" \
    "$(int "$(median "$name" "$scenario" 5)")" "$(int "$(median "$name" "$scenario" 6)")" \
    "$(median "$name" "$scenario" 7)" "$(median "$name" "$scenario" 8)" \
    "$(int "$(median "$name" "$scenario" 15)")" "$(int "$(median "$name" "$scenario" 12)")" \
    "$(int "$(median "$name" "$scenario" 17)")" "$(int "$(median "$name" "$scenario" 13)")" \
    "$(int "$(median "$name" "$scenario" 16)")" "$(median "$name" "$scenario" 10)" "$errors" "$flag"
}

# ratio_cell NAME SCENARIO COLUMN: median of the per-round NAME / nutcracker ratios.
ratio_cell() { paired_ratios_of "$1" nutcracker "$2" "$3" | median_of_lines; }

front_table() {
  local scenario=$1 name
  echo "| front | requests/s | keys/s | p50 µs | p99 µs | **requests per front CPU-s** | front CPU" \
    "| nodes CPU | client CPU | other CPU | hit ratio | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for name in $SERVERS; do front_row "$name" "$scenario"; done
  for name in $(compared_fronts); do
    printf '| **%s / nutcracker** | **%s** | %s | %s | %s | **%s** | | | | | | |\n' \
      "$(front_label "$name")" "$(ratio_cell "$name" "$scenario" 5)" \
      "$(ratio_cell "$name" "$scenario" 6)" "$(ratio_cell "$name" "$scenario" 7)" \
      "$(ratio_cell "$name" "$scenario" 8)" "$(ratio_cell "$name" "$scenario" 15)"
  done
  echo
  echo "Front rows are medians over the rounds; a ratio row is the median of the per-round ratios"
  echo "(the fronts of a round run back to back). Per round, in round order:"
  echo
  for name in $SERVERS; do
    echo "- $(front_label "$name"): requests/s $(per_round "$name" "$scenario" 5);" \
      "per front CPU-s $(per_round "$name" "$scenario" 15); front CPU $(per_round "$name" "$scenario" 12);" \
      "other CPU $(per_round "$name" "$scenario" 16)"
  done
  for name in $(compared_fronts); do
    echo "- $(front_label "$name") / nutcracker: requests/s" \
      "$(paired_ratios_of "$name" nutcracker "$scenario" 5 | paste -sd, | sed 's/,/, /g');" \
      "per front CPU-s $(paired_ratios_of "$name" nutcracker "$scenario" 15 | paste -sd, | sed 's/,/, /g')"
  done
}

load_table() {
  local name
  echo "| front | sets/s | p99 µs | front CPU | nodes CPU | client CPU | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for name in $SERVERS; do
    printf '| %s | %s | %s | %s%% | %s%% | %s%% | %s |\n' "$(front_label "$name")" \
      "$(int "$(median "$name" load 5)")" "$(median "$name" load 8)" \
      "$(int "$(median "$name" load 12)")" "$(int "$(median "$name" load 17)")" \
      "$(int "$(median "$name" load 13)")" "$(total "$name" load 11)"
  done
}

agreement_section() {
  if [ -z "${BENCH_COMMAND[agree]:-}" ]; then
    echo "Only one front ran (SERVERS=\"$SERVERS\"): nothing to compare."
    return
  fi
  cat <<MD
In each round the first front loads every key and each other front then reads them all back
(\`--mode verify\`, every value checked) before loading them itself: a key the second front
looks for on another node than the one the first front put it on is a miss.

\`\`\`
${BENCH_COMMAND[agree]}
\`\`\`

$(agreement_lines)
MD
}

agreement_lines() {
  local round name first hits
  for ((round = 1; round <= ROUNDS; round++)); do
    for name in $SERVERS; do
      [ -n "${AGREE[$round.$name]:-}" ] || continue
      first=${AGREE[$round.$name]% *}
      hits=${AGREE[$round.$name]#* }
      echo "- round $round: $KEYS keys loaded through $(front_label "$first"), read back through" \
        "$(front_label "$name"): $hits found$([ "$hits" = "$KEYS" ] || echo " **(the rings disagree)**")"
    done
  done
}

node_items_lines() {
  local round
  for ((round = 1; round <= ROUNDS; round++)); do
    echo "- round $round: ${NODE_ITEMS[$round]:-?}"
  done
}

placement_paragraph() {
  if ((PIN)); then
    cat <<'MD'
The front under test is pinned alone to CPU 0 (`taskset -c 0`); the three nodes and
warmcache-bench (one thread) share CPU 1. Only one front is under load at a time; the others sit
idle on CPU 0. The front is what is measured, so it gets a core nothing else competes for, and its
CPU time is its own: "front CPU" is its user+system time over the run (warm-up included) divided
by the wall time, 100% = its core saturated. "Requests per front CPU-s" (requests/s ÷ front CPU)
is the front's cost per request, and like core.sh's per-server-CPU figure it moves much less than
requests/s when other jobs take CPU time. "nodes CPU" is the three nodes together, "other CPU"
everything else the machine did (other jobs, hypervisor steal), both in % of one core.
If client CPU + nodes CPU nears 100%, CPU 1 and not the front is the limit: requests/s of the
fronts are then squeezed together and only the per-front-CPU-s column compares them.
MD
  else
    echo "Nothing is pinned (PIN=0): fronts, nodes and warmcache-bench share both cores."
  fi
}

write_section() {
  local cpu note name
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  cat <<MD
## Proxy: warmcached --proxy vs nutcracker, 3 nodes (issue #6)

Generated by \`bench/proxy.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'), tree $TREE_STATE); rerun it to
refresh this section. Every front reads the same twemproxy pool file and forwards to the same three
warmcached nodes; each figure is the median of $ROUNDS round(s) of ${DURATION} s (after ${WARMUP} s
of unmeasured warm-up). Every round starts fresh nodes and fronts, and the front that goes first
rotates between rounds.

- CPUs: $(nproc), ${cpu:-unknown model}; kernel $(uname -r); Debian $(cat /etc/debian_version 2>/dev/null || echo unknown)
- nutcracker: $(binary_version "$NUTCRACKER") (single-threaded by design)
- warmcached: $(binary_version "$WARMCACHED")
MD
  for note in "${NOTES[@]}"; do echo "- **$note**"; done
  cat <<MD

$(placement_paragraph)

Pool file (\`<port>\`: the nodes' ephemeral ports; the listen port is nutcracker's, warmcached
\`-p -1 -l 127.0.0.1\` override it):

\`\`\`yaml
$(sed -E 's/127\.0\.0\.1:[0-9]+/127.0.0.1:<port>/' "$POOL")
\`\`\`

Nodes and fronts:

\`\`\`
$(for name in "${NODES[@]}" $SERVERS; do echo "${SERVER_COMMAND[$name]}"; done)
\`\`\`

warmcache-bench, one thread, closed loop, one request in flight per connection, every value
checked:

\`\`\`
${BENCH_COMMAND[load]}
${BENCH_COMMAND[mixed]}
${BENCH_COMMAND[multiget]}
\`\`\`

### (a) 90% get / 10% set, $CONNECTIONS connections

$(front_table mixed)

### (b) get with $MULTIGET keys per request, $CONNECTIONS connections

Each \`get\` is split by the front over the three nodes and the replies merged; requests/s counts
\`get\` commands, keys/s the keys they ask for.

$(front_table multiget)

### Load through the front

$KEYS sets of $VALUE_SIZE B per front and round, $CONNECTIONS connections with 32 pipelined
sets each. The first front of a round stores into empty nodes, the others replace the same
values; a load lasts about a second, so these figures are rough.

$(load_table)

### Do the fronts place keys alike?

$(agreement_section)

Keys per node (\`curr_items\` of node1 / node2 / node3 after all loads):

$(node_items_lines)

### Raw results

One JSON line per warmcache-bench run, in run order (\`label\` names the front, \`mode\` the phase).

\`\`\`json
$(cut -f14 "$RUNS")
\`\`\`
MD
}

# The end-of-run lines on stderr: medians and ratios.
print_summary() {
  local scenario name
  for scenario in mixed multiget; do
    for name in $SERVERS; do
      echo "$PROG: $scenario $(front_label "$name"): $(int "$(median "$name" "$scenario" 5)") req/s," \
        "$(int "$(median "$name" "$scenario" 15)") per front CPU-s, p99 $(median "$name" "$scenario" 8) µs," \
        "errors $(total "$name" "$scenario" 11)"
    done
    for name in $(compared_fronts); do
      echo "$PROG: $scenario $(front_label "$name") / nutcracker: req/s $(ratio_cell "$name" "$scenario" 5)," \
        "per front CPU-s $(ratio_cell "$name" "$scenario" 15)"
    done
  done
}
