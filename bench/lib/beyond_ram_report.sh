# SPDX-License-Identifier: BSD-3-Clause
# Sourced by bench/beyond_ram.sh: its section of docs/benchmarks.md, from the JSON line of each
# warmcache-bench run ($TMP/NAME.PHASE.1.json) and what the script measured around them.

label() {
  case $1 in
    memcached) echo "memcached" ;;
    extstore) echo "memcached + extstore" ;;
    extstore_am2) echo "memcached + extstore, slab_automove=2" ;;
    *) echo "$1" ;;
  esac
}

# field NAME PHASE FIELD: one field of a run's JSON line.
field() { json_field "$TMP/$1.$2.1.json" "$3"; }
fixed() { awk -v a="$1" -v d="$2" 'BEGIN { printf "%.*f", d, a }'; }
pct() { awk -v a="$1" 'BEGIN { printf "%.1f%%", 100 * a }'; }
# per_key BYTES: bytes per loaded key, or "-".
per_key() {
  if [ "$1" = - ]; then echo -; else awk -v b="$1" -v n="$KEYS" 'BEGIN { printf "%.0f", b / n }'; fi
}
# cpu NAME PHASE: "server / client / other" CPU of a run, in % of one core (servers.sh).
cpu() {
  awk -F'\t' -v n="$1" -v p="$2" '$1 == n && $2 == p { printf "%s / %s / %s", $12, $13, $16 }' "$RUNS"
}

mb() { if [ "$1" = - ]; then echo -; else awk -v b="$1" 'BEGIN { printf "%.0f MB", b / 1e6 }'; fi; }

load_table() {
  local name
  echo "| server | load time | sets/s | store errors | read-back hit ratio | hits | wrong values" \
    "| read-back time | keys/s |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for name in $SERVERS; do
    printf '| %s | %s s | %s | %s | %s | %s | %s | %s s | %s |\n' "$(label "$name")" \
      "$(fixed "$(field "$name" load seconds)" 1)" "$(int "$(field "$name" load requests_per_s)")" \
      "$(field "$name" load errors)" "$(pct "$(field "$name" verify hits | awk -v n="$KEYS" '{ print $1 / n }')")" \
      "$(field "$name" verify hits)" "$(wrong_values "$name")" \
      "$(fixed "$(field "$name" verify seconds)" 1)" "$(int "$(field "$name" verify keys_per_s)")"
  done
}

wrong_values() {
  local bad
  bad=$(field "$1" verify bad_values)
  if ((bad > 0)); then echo "**$bad (BUG)**"; else echo 0; fi
}

zipf_table() {
  local name
  echo "| server | zipf GETs/s | p50 µs | p99 µs | zipf hit ratio | max VmRSS | VmHWM" \
    "| disk after load | disk after reads | disk bytes per loaded key |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for name in $SERVERS; do
    printf '| %s | %s | %s | %s | %s | %s MiB | %s MiB | %s | %s | %s |\n' "$(label "$name")" \
      "$(int "$(field "$name" zipf requests_per_s)")" "$(field "$name" zipf p50_us)" \
      "$(field "$name" zipf p99_us)" "$(pct "$(field "$name" zipf hit_ratio)")" \
      "$(mib "${RSS_MAX[$name]}")" "$(mib "${HWM[$name]}")" "$(mb "${DISK_AFTER_LOAD[$name]}")" \
      "$(mb "${DISK_AFTER_READS[$name]}")" "$(per_key "${DISK_AFTER_READS[$name]}")"
  done
}

cpu_table() {
  local name
  echo "| server | load | read-back | zipf GETs |"
  echo "|---|---:|---:|---:|"
  for name in $SERVERS; do
    printf '| %s | %s | %s | %s |\n' "$(label "$name")" "$(cpu "$name" load)" \
      "$(cpu "$name" verify)" "$(cpu "$name" zipf)"
  done
}

# What warmcached's disk use means per item it reports on disk (warm_items), if it does.
warm_item_line() {
  local items
  [[ " $SERVERS " == *" warmcached "* ]] || return 0
  items=$(stat_value warmcached warm_items)
  if [ -n "$items" ] && ((items > 0)) && [ "${DISK_AFTER_READS[warmcached]}" != - ]; then
    echo "- warmcached: $(per_key "$((DISK_AFTER_READS[warmcached] * KEYS / items))") disk bytes" \
      "per warm item ($items warm items at the end) for $VALUE_SIZE B values."
  fi
}

# Ratios of warmcached to each extstore variant that ran.
ratio_lines() {
  local other
  [[ " $SERVERS " == *" warmcached "* ]] || return 0
  for other in extstore extstore_am2; do
    [[ " $SERVERS " == *" $other "* ]] || continue
    echo "- warmcached / $(label "$other"): zipf GETs/s" \
      "**$(ratio "$(field warmcached zipf requests_per_s)" "$(field "$other" zipf requests_per_s)")**," \
      "zipf hit ratio $(ratio "$(field warmcached zipf hit_ratio)" "$(field "$other" zipf hit_ratio)")," \
      "read-back hits $(ratio "$(field warmcached verify hits)" "$(field "$other" verify hits)")," \
      "max VmRSS $(ratio "${RSS_MAX[warmcached]}" "${RSS_MAX[$other]}")"
  done
}

counters() {
  local name pattern
  for name in $SERVERS; do
    pattern='^STAT (curr_items|evictions|get_hits|get_misses) '
    case $name in
      warmcached) pattern='^STAT (curr_items|evictions|get_hits|get_misses|warm_[a-z_]+|hot_[a-z_]+) ' ;;
      extstore*) pattern='^STAT (curr_items|evictions|get_hits|get_misses|get_extstore|miss_from_extstore|extstore_objects_(written|used)|extstore_bytes_(written|used)) ' ;;
    esac
    echo "- $(label "$name"): $(grep -E "$pattern" "${STATS_FILE[$name]}" |
      awk '{ printf "%s%s %s", sep, $2, $3; sep = ", " }')$(slab_pages "$name")"
  done
}

# "; 1 MB slab pages by chunk size: 96 B 25, 1184 B 40" from memcached's `stats slabs`.
slab_pages() {
  [ -s "$TMP/$1.slabs" ] || return 0
  awk -F'[ :]' '$1 == "STAT" && $3 == "chunk_size" { size[$2] = $4 }
                $1 == "STAT" && $3 == "total_pages" && $4 > 0 { pages[$2] = $4 }
                END { for (c in pages) printf "%d %s B %s\n", c, size[c], pages[c] }' \
    "$TMP/$1.slabs" | sort -n | cut -d' ' -f2- | paste -sd, - | sed 's/,/, /g; s/^/; slab pages (1 MB) by chunk size: /'
}

write_section() {
  local cpu
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  cat <<MD
## Beyond RAM: $KEYS values of $VALUE_SIZE B with $(memory_mb) MB of RAM (issue #4)

Generated by \`bench/beyond_ram.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'), tree $TREE_STATE); rerun it
to refresh this section (a few minutes). **All figures come from one run**, one fresh instance
per server, run one after the other, so they carry the noise of a shared 2-core virtual machine
(see above): trust differences of 2x, not of 10%.

Each server gets the same \`$SERVER_ARGS\` and, in turn:

1. **Load** $KEYS keys (\`wcb:0000000000\`…) of $VALUE_SIZE B, about $((KEYS * VALUE_SIZE / 1000000)) MB of values,
   $(awk -v b="$((KEYS * VALUE_SIZE))" -v m="$(memory_mb)" 'BEGIN { printf "%.0f", b / m / 1048576 }')x the $(memory_mb) MB memory limit. Values are JSON order records (\`--value-kind $VALUE_KIND\`), a pure function of
   the key, about 2.4x compressible by zstd -3 when each is compressed alone (as warmcached's warm
   tier does).
2. **Read back** every key once, $MULTIGET keys per \`get\`, in a scattered order
   (neighbouring keys far apart), checking every returned byte against the generator. A miss is
   a key the server no longer has; a wrong value is a bug.
3. **$ZIPF_DURATION s of zipf($ZIPF_THETA) GETs** over the same keys, $CONNECTIONS connections,
   one request in flight each.

VmRSS of the server is sampled every $RSS_INTERVAL s for its whole life ("max VmRSS"; VmHWM is
the kernel's own peak, read at the end, as a check); disk use is \`du -sb\` of warmcached's data
dir or memcached's extstore file, after the load and after the reads.

### Machine and software

- CPUs: $(nproc), ${cpu:-unknown model}; RAM $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); kernel $(uname -r); Debian $(cat /etc/debian_version 2>/dev/null || echo unknown)
- memcached: $(binary_version "$MEMCACHED")
- warmcached: $(binary_version "$WARMCACHED")
- $(placement_line)
- The machine has far more RAM than the files written, so they stay in the page cache: the
  "disk" reads of extstore and of the warm tier are copies from kernel memory, not device reads.
  The comparison is of what each design keeps and how much work a read costs, not of the disk.

Servers (\`-p -1\`: ephemeral port; \`<tmp>\`: a fresh temporary directory):

\`\`\`
$(for name in $SERVERS; do echo "${SERVER_COMMAND[$name]//$TMP/<tmp>}"; done)
\`\`\`

Load generator (\`build/warmcache-bench\`, one thread):

\`\`\`
${BENCH_COMMAND[load]}
${BENCH_COMMAND[verify]}
${BENCH_COMMAND[zipf]}
\`\`\`

### Load and read-back

Load time runs from the first \`set\` to the last reply; "store errors" are replies other than
STORED (memcached answers \`SERVER_ERROR out of memory\` when it cannot make room in time).
Read-back hit ratio is hits / $KEYS.

$(load_table)

### Zipf GETs, memory and disk

The bench never re-sets a key that missed (there is no backing store behind these caches),
so a key a server dropped during the load stays a miss for the rest of the run. "Disk bytes per
loaded key" is the disk use after the reads divided by the $KEYS keys loaded (raw values:
$VALUE_SIZE B).

$(zipf_table)

$(ratio_lines)
$(warm_item_line)

CPU use during each phase, in % of one core: the server / warmcache-bench / everything else on
the machine (other jobs, hypervisor steal). The server has one core; "other" well above zero
means other processes competed with it, and that phase's figures are less trustworthy.

$(cpu_table)

Server counters at the end of the run:

$(counters)

### Configuring extstore

$(extstore_notes)

### Raw results

One JSON line per warmcache-bench run (\`label\` names the server).

\`\`\`json
$(for name in $SERVERS; do for phase in load verify zipf; do cat "$TMP/$name.$phase.1.json"; done; done)
\`\`\`
MD
}

# The -m of SERVER_ARGS.
memory_mb() { echo "$SERVER_ARGS" | sed -nE 's/(^|.* )-m ([0-9]+).*/\2/p'; }

placement_line() {
  if ((PIN)); then
    echo "Placement: each server pinned to CPU 0 (\`taskset -c 0\`, so \`-t 2\` puts both worker" \
      "threads on one core), warmcache-bench and the RSS sampler on CPU 1, as in bench/core.sh."
  else
    echo "Placement: nothing pinned (PIN=0)."
  fi
}

extstore_notes() {
  cat <<'MD'
- Extstore is on with `-o ext_path=FILE:SIZE` alone: its defaults (`ext_item_size` 512, so every
  1000 B value qualifies; `ext_wbuf_size` 4 MB; `ext_page_size` 64 MB) store these values without
  further flags.
- memcached keeps every extstore item's header and key in RAM (a 96 B slab chunk here), and
  moves values to the file from a background thread only once memory is full. The load fills
  the 64 MB with 1184 B chunks first; the slab rebalancer then moves pages to the 96 B class
  too slowly, so headers are evicted and their values on disk become unreachable. Its hit ratio
  is bounded even with a perfect rebalance: a million headers need about 96 MB.
- `slab_automove=2` (move a slab page on every eviction; memcached's help calls it aggressive)
  is run as a second extstore row. It can give headers more pages, but how many depends on
  timing: over six trials on this machine its read-back hit ratio ranged from 6% to 30% (the
  slab pages in the counters above show what this run got). Other variations tried while
  writing this script (a 4-connection, unpipelined load; `ext_wbuf_size=2`;
  `slab_chunk_max=16384`) left the default's read-back hit ratio at 6–7%.
MD
}
