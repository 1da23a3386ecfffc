#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs what is missing, builds warmcache and runs the whole test suite with ctest, twice:
# an optimised build (RelWithDebInfo) and an ASan+UBSan build (Sanitize), so that memory
# errors and leaks in the server fail the run. Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
jobs="$(nproc)"
werror=""
if [ -n "${CI:-}" ]; then werror="-DWC_WERROR=ON"; fi

run_suite() {  # build dir, build type
  cmake -S . -B "$1" -DCMAKE_BUILD_TYPE="$2" $werror >/dev/null
  cmake --build "$1" -j "$jobs"
  (cd "$1" && ctest --output-on-failure -j "$jobs" "${@:3}")
}

run_suite build RelWithDebInfo "$@"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_suite build-asan Sanitize "$@"
