#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs what is missing, builds warmcached (Release) and runs it in the foreground on
# 127.0.0.1:11211 with memcached's defaults. Extra arguments are passed to warmcached.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --build
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build-release -j "$(nproc)" --target warmcached
exec build-release/warmcached -l 127.0.0.1 -p 11211 "$@"
