#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs what is missing, builds warmcache and runs the whole test suite with ctest three
# times: an optimised build (RelWithDebInfo), an ASan+UBSan build (Sanitize) and a
# ThreadSanitizer build (Tsan) — the integration and conformance tests start the server of
# their own build, so memory errors, leaks and data races in warmcached fail the run; then the
# fuzz-smoke stage: each libFuzzer target (clang) for WC_FUZZ_SECONDS (default 60). Extra
# arguments go to the three ctest runs (e.g. -L unit).
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
TSAN_OPTIONS="second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" run_suite build-tsan Tsan "$@"

CC=clang CXX=clang++ cmake -S . -B build-fuzz -DWARMCACHE_FUZZ=ON \
  -DWC_FUZZ_SECONDS="${WC_FUZZ_SECONDS:-60}" >/dev/null
cmake --build build-fuzz -j "$jobs" --target binary_codec_fuzz text_parser_fuzz
(cd build-fuzz && ctest --output-on-failure -L fuzz-smoke)
