#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs, from Debian 12's archive, everything warmcache needs to build, test and benchmark.
# Safe to re-run: apt-get skips what is already there.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git
  # libraries
  libuv1-dev librocksdb-dev libzstd-dev libspdlog-dev libfmt-dev libxxhash-dev libgtest-dev libgmock-dev
  # tests and benchmarks: the oracle and third-party clients
  memcached libmemcached-tools python3 python3-pymemcache netcat-openbsd procps
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
