# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the bench scripts. docs/benchmarks.md is bench/core.sh's report followed by sections
# that other scripts own, each between a "<!-- NAME:begin -->" and a "<!-- NAME:end -->" line;
# each script rewrites only its own part.

# marked_sections FILE: every owned section of FILE, markers included, in file order, each
# preceded by a blank line. Nothing if FILE does not exist.
marked_sections() {
  [ -f "$1" ] || return 0
  awk '/^<!-- [a-z0-9-]+:begin -->$/ { inside = 1; print "" }
       inside { print }
       /^<!-- [a-z0-9-]+:end -->$/ { inside = 0 }' "$1"
}

# replace_section FILE NAME CONTENT_FILE: puts CONTENT_FILE between NAME's markers in FILE,
# dropping what was there, or appends the section to FILE if it has none yet.
replace_section() {
  local file=$1 name=$2 content=$3 tmp
  local begin="<!-- $name:begin -->" end="<!-- $name:end -->"
  tmp=$(mktemp "$file.XXXXXX")
  if [ -f "$file" ] && grep -qxF -- "$begin" "$file"; then
    grep -qxF -- "$end" "$file" || { rm -f -- "$tmp"; die "$file has '$begin' but no '$end'"; }
    awk -v b="$begin" -v e="$end" -v c="$content" '
      $0 == b { print; while ((getline line < c) > 0) print line; skip = 1; next }
      $0 == e { skip = 0 }
      !skip { print }' "$file" >"$tmp"
  else
    { if [ -f "$file" ]; then cat "$file"; echo; fi
      echo "$begin"; cat "$content"; echo "$end"; } >"$tmp"
  fi
  mv -- "$tmp" "$file"
}
