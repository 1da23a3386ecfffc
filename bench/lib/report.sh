# SPDX-License-Identifier: BSD-3-Clause
# Sourced by bench/core.sh: turns $RUNS (one row per bench run) into docs/benchmarks.md.
# Row columns: 1 name, 2 scenario, 3 round, 4 exit code, 5 req/s, 6 keys/s, 7 p50 us,
# 8 p99 us, 9 p99.9 us, 10 hit ratio, 11 errors, 12 server CPU %, 13 client CPU %, 14 JSON,
# 15 requests per server CPU-second, 16 other CPU %, 17 backend CPU % (see lib/servers.sh).

# median NAME SCENARIO COLUMN: over the rounds.
median() {
  awk -F'\t' -v n="$1" -v s="$2" -v c="$3" '$1 == n && $2 == s { print $c }' "$RUNS" | sort -g |
    awk '{ v[NR] = $1 }
         END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2];
               else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# total NAME SCENARIO COLUMN: summed over the rounds (errors).
total() {
  awk -F'\t' -v n="$1" -v s="$2" -v c="$3" '$1 == n && $2 == s { t += $c } END { print t + 0 }' \
    "$RUNS"
}

# per_round NAME SCENARIO COLUMN: "v1, v2, v3" in round order.
per_round() {
  awk -F'\t' -v n="$1" -v s="$2" -v c="$3" '$1 == n && $2 == s { printf "%s%.0f", sep, $c; sep = ", " }' \
    "$RUNS"
}

# paired_ratios SCENARIO COLUMN [MAX_OTHER]: warmcached / memcached per round, one per line, in
# round order. Both runs of a round are adjacent in time, so a ratio cancels most machine-wide
# drift. With MAX_OTHER, only rounds where other CPU stayed below it in both runs.
paired_ratios() { paired_ratios_of warmcached memcached "$@"; }

# paired_ratios_of NAME BASE SCENARIO COLUMN [MAX_OTHER]: the same for any two names' rows.
paired_ratios_of() {
  awk -F'\t' -v n="$1" -v b="$2" -v s="$3" -v c="$4" -v max="${5:-1e9}" '
    $2 == s && $1 == b { base[$3] = $c; ok_base[$3] = $16 < max + 0 }
    $2 == s && $1 == n { mine[$3] = $c; ok_mine[$3] = $16 < max + 0 }
    END { for (r = 1; r in base; r++)
            if (r in mine && base[r] + 0 != 0 && ok_base[r] && ok_mine[r])
              printf "%.3f\n", mine[r] / base[r] }' \
    "$RUNS"
}

# One line about the rounds the rest of the machine left alone.
quiet_pairs_line() {
  local scenario=$1 count
  count=$(paired_ratios "$scenario" 5 "$QUIET_MAX" | wc -l)
  if ((count == 0)); then
    echo "- no round had other CPU below ${QUIET_MAX}% in both runs"
    return
  fi
  echo "- rounds with other CPU below ${QUIET_MAX}% in both runs: $count of $ROUNDS; their median" \
    "ratio of requests/s $(paired_ratios "$scenario" 5 "$QUIET_MAX" | median_of_lines)," \
    "of requests per server CPU-s $(paired_ratios "$scenario" 15 "$QUIET_MAX" | median_of_lines)"
}

median_of_lines() {
  sort -g | awk '{ v[NR] = $1 }
    END { if (NR == 0) print "n/a"; else if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2];
          else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
int() { awk -v a="$1" 'BEGIN { printf "%.0f", a }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# One table row for a server in a throughput scenario.
throughput_row() {
  local name=$1 scenario=$2 errors flag=""
  errors=$(total "$name" "$scenario" 11)
  ((errors == 0)) || flag=" **(errors: figures not trustworthy)**"
  printf '| %s | %s | %s | %s | %s | %s | %s%% | %s%% | %s%% | %s | %s%s |\n' "$name" \
    "$(int "$(median "$name" "$scenario" 5)")" "$(int "$(median "$name" "$scenario" 6)")" \
    "$(median "$name" "$scenario" 7)" "$(median "$name" "$scenario" 8)" \
    "$(int "$(median "$name" "$scenario" 15)")" "$(int "$(median "$name" "$scenario" 12)")" \
    "$(int "$(median "$name" "$scenario" 13)")" "$(int "$(median "$name" "$scenario" 16)")" \
    "$(median "$name" "$scenario" 10)" "$errors" "$flag"
}

throughput_table() {
  local scenario=$1 c
  echo "| server | requests/s | keys/s | p50 µs | p99 µs | requests per server CPU-s" \
    "| server CPU | client CPU | other CPU | hit ratio | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  throughput_row memcached "$scenario"
  throughput_row warmcached "$scenario"
  local cells=()
  for c in 5 6 7 8 15; do cells+=("$(paired_ratios "$scenario" "$c" | median_of_lines)"); done
  printf '| **warmcached / memcached** | **%s** | **%s** | %s | %s | **%s** | | | | | |\n' "${cells[@]}"
  echo
  echo "Server rows are medians over the rounds; the ratio row is the median of the per-round"
  echo "ratios (both servers of a round run back to back). Per round, in round order:"
  echo
  echo "- requests/s: memcached $(per_round memcached "$scenario" 5);" \
    "warmcached $(per_round warmcached "$scenario" 5)"
  echo "- ratio of requests/s: $(paired_ratios "$scenario" 5 | paste -sd, | sed 's/,/, /g')"
  echo "- ratio of requests per server CPU-s: $(paired_ratios "$scenario" 15 | paste -sd, |
    sed 's/,/, /g')"
  echo "- other CPU (% of one core): memcached $(per_round memcached "$scenario" 16);" \
    "warmcached $(per_round warmcached "$scenario" 16)"
  quiet_pairs_line "$scenario"
}

rss_table() {
  local name label
  echo "| server | VmRSS idle | VmRSS after load | growth per item | load rate (sets/s) | errors |"
  echo "|---|---:|---:|---:|---:|---:|"
  for name in memcached_rss warmcached_rss; do
    label=${name%_rss}
    printf '| %s | %s MiB | %s MiB | %s B | %s | %s |\n' "$label" "$(mib "${RSS_BEFORE[$name]}")" \
      "$(mib "${RSS_AFTER[$name]}")" \
      "$(awk -v a="${RSS_AFTER[$name]}" -v b="${RSS_BEFORE[$name]}" -v n="$RSS_KEYS" \
          'BEGIN { printf "%.0f", (a - b) * 1024 / n }')" \
      "$(int "$(median "$name" rss_load 5)")" "$(total "$name" rss_load 11)"
  done
  printf '| **warmcached / memcached** | | **%s** | | %s | |\n' \
    "$(ratio "${RSS_AFTER[warmcached_rss]}" "${RSS_AFTER[memcached_rss]}")" \
    "$(ratio "$(median warmcached_rss rss_load 5)" "$(median memcached_rss rss_load 5)")"
}

# The commit this run measured, and whether files other than the report differed from it.
# Called before the report is written, since writing it would make the tree look modified.
tree_state() {
  local commit
  commit=$(git rev-parse --short HEAD 2>/dev/null) || { echo unknown; return; }
  if git status --porcelain --untracked-files=no 2>/dev/null | grep -qv " $OUT\$"; then
    echo "$commit (with uncommitted changes)"
  else
    echo "$commit"
  fi
}

binary_version() {
  local v
  v=$(timeout 2 "$1" -V 2>/dev/null | head -1) || true
  # nutcracker prints its version on stderr
  [ -n "$v" ] || v=$(timeout 2 "$1" -V 2>&1 >/dev/null | head -1) || true
  echo "${v:-unknown} (\`$1\`)"
}

machine_section() {
  local cpu
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  cat <<MD
## Machine and software

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- CPUs: $(nproc) (\`nproc\`), ${cpu:-unknown model}; RAM $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
- Kernel: $(uname -r); Debian $(cat /etc/debian_version 2>/dev/null || echo unknown)
- memcached: $(binary_version "$MEMCACHED")
- warmcached: $(binary_version "$WARMCACHED"), tree $TREE_STATE
- Load generator: \`$BENCH\` (tools/bench), one epoll thread, closed loop, one request in
  flight per connection, every reply parsed and every value checked byte for byte.
MD
  if [ "$(realpath "$WARMCACHED")" = "$(realpath "$MEMCACHED")" ]; then
    echo
    echo "**Validation run: the \"warmcached\" binary is memcached itself, so the ratios only"
    echo "show the noise of the method (ideally 1.00).**"
  fi
}

placement_text() {
  if ((PIN)); then
    cat <<'MD'
Both servers run pinned to CPU 0 (`taskset -c 0`), so with `-t 2` their two worker threads share
one core; warmcache-bench runs as one thread pinned to CPU 1 (`taskset -c 1`). Only one server is
under load at a time; the other sits idle on CPU 0. "server CPU" is the server's user+system time
over the run (warm-up included) divided by its wall time, so 100% means its core was saturated;
"client CPU" is the same for warmcache-bench. When client CPU nears 100% the load generator, not
the server, is the limit and the ratio is squeezed towards 1. A saturating run whose server CPU
is well below 100% means other processes took CPU 0 meanwhile: "other CPU" is the CPU time used
by everything except the server under test and warmcache-bench (other people's jobs, hypervisor
steal), in % of one core, over the same run. "Requests per server CPU-s" (requests/s divided by
server CPU) is less sensitive to that interference than requests/s.
MD
  else
    echo "Nothing is pinned (PIN=0): both servers and the load generator share both cores."
  fi
}

write_report() {
  cat <<MD
<!-- SPDX-License-Identifier: BSD-3-Clause -->
# Benchmarks: warmcached vs memcached 1.6.18

Generated by \`bench/core.sh\`; rerun it to refresh this file (it takes a few minutes).

**Read the ratios, not the absolute figures.** They come from a shared, noisy 2-core virtual
machine where the servers and the load generator compete for the same two cores, over loopback.
Both servers run in the same script run, under the same conditions, one after the other; each
figure is the median of $ROUNDS round(s) of ${DURATION} s (after ${WARMUP} s of unmeasured
warm-up). Every round starts fresh instances of both servers (two identical memcached processes
can differ by several percent for their whole life), the server that goes first alternates
between rounds, and before each pair of runs the script waits up to ${QUIET_WAIT} s for other
processes to use less than ${QUIET_MAX}% of a core. Differences of a few percent are within the
noise; so is much more in rounds where "other CPU" is high.

$(machine_section)

## Setup

Servers (ephemeral loopback ports; the same flags for both):

\`\`\`
${SERVER_COMMAND[memcached]}
${SERVER_COMMAND[warmcached]}
\`\`\`

$(placement_text)

In every round each server is first loaded with $KEYS keys of $VALUE_SIZE B (keys \`wcb:0000000000\`…, 14 B):

\`\`\`
${BENCH_COMMAND[load]}
\`\`\`

## (a) 90% get / 10% set, $CONNECTIONS connections

Uniform keys over the $KEYS loaded keys, one request in flight per connection.

\`\`\`
${BENCH_COMMAND[mixed]}
\`\`\`

$(throughput_table mixed)

## (b) get with $MULTIGET keys per request, $CONNECTIONS connections

Uniform keys; requests/s counts \`get\` commands, keys/s counts the keys they ask for.

\`\`\`
${BENCH_COMMAND[multiget]}
\`\`\`

$(throughput_table multiget)

## (c) Memory: RSS after loading $RSS_KEYS items of $VALUE_SIZE B

A fresh instance of each server (same flags as above), VmRSS from \`/proc/PID/status\` before the
load and one second after it. memcached's \`-m 1024\` preallocates nothing by default, so its idle
RSS is small; "growth per item" is (after − idle) / items.

\`\`\`
${BENCH_COMMAND[rss_load]}
\`\`\`

$(rss_table)

## Raw results

One JSON line per warmcache-bench run, as printed by the tool (\`label\` names the server).

\`\`\`json
$(cut -f14 "$RUNS")
\`\`\`
MD
}
