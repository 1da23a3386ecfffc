#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs, from Debian 12's archive, what warmcache needs.
#   tools/install-deps.sh          build + test + benchmark dependencies
#   tools/install-deps.sh --build  only what building and running warmcached needs
# Safe to re-run: nothing is installed twice, and apt is not touched when all is present.
set -euo pipefail

build=(
  build-essential cmake pkg-config
  libuv1-dev librocksdb-dev libzstd-dev libspdlog-dev libfmt-dev libxxhash-dev
  libyaml-cpp-dev libssl-dev
  libgtest-dev libgmock-dev
  # the fuzz-smoke stage: clang with libFuzzer
  clang libclang-rt-14-dev
)
# Tests and benchmarks talk to the real thing: Debian's memcached as the oracle, and real
# third-party clients.
test=(
  memcached libmemcached-tools python3 python3-pymemcache python3-memcache php-cli php-memcached
  libcache-memcached-fast-perl netcat-openbsd procps
  # the ring's compatibility tests: libmemcached's ketama and twemproxy (nutcracker)
  libmemcached-dev nutcracker
)

packages=("${build[@]}")
if [ "${1:-}" != "--build" ]; then packages+=("${test[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
