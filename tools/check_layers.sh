#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Rejects #includes that go the wrong way between layers (net -> protocol -> engine -> tiers;
# see docs/architecture.md). Run by ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
check() {  # folder, forbidden include prefixes...
  local dir=$1; shift
  for bad in "$@"; do
    if grep -rn --include='*.h' --include='*.cc' "#include \"$bad" "$dir" 2>/dev/null; then
      echo "layering: $dir must not include $bad" >&2
      fail=1
    fi
  done
}
check server/common net/ storage/ server/protocol server/engine server/session server/app
check net storage/ server/protocol server/engine server/session server/app server/ring server/proxy
check server/protocol net/ storage/ server/engine server/session server/app
check server/engine net/ server/protocol server/session server/app
check storage net/ server/protocol server/engine server/session server/app
check server/session server/app
check server/ring net/ storage/ server/engine server/session server/app server/protocol
check server/proxy storage/ server/engine server/session server/app
# Third-party headers stay in their adapter folders.
if grep -rln --include='*.h' --include='*.cc' '#include <uv.h>' server storage | grep -v '^server/app/'; then
  echo "layering: <uv.h> belongs to net/ (and the app that wires it)" >&2
  fail=1
fi
if grep -rln --include='*.h' --include='*.cc' "#include <rocksdb/" server net storage tools |
    grep -v '^storage/rocks/'; then
  echo "layering: <rocksdb/...> belongs to storage/rocks/" >&2
  fail=1
fi
# zstd has two adapters: the warm tier's records, and the snapshot file (issue #5), which must
# not depend on RocksDB or a database's dictionary.
if grep -rln --include='*.h' --include='*.cc' "#include <zstd.h>" server net storage tools |
    grep -v -e '^storage/rocks/' -e '^storage/snapshot/'; then
  echo "layering: <zstd.h> belongs to storage/rocks/ and storage/snapshot/" >&2
  fail=1
fi
exit $fail
