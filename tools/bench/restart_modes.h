// SPDX-License-Identifier: BSD-3-Clause
// The modes bench/restart.sh needs around a server restart or crash, each a plain blocking
// client (exactness matters here, not throughput):
//   ready: polls "version" on a fresh connection every --poll-ms until one is answered;
//   write: sets versioned values (see VersionedValues) over keys 0..keys-1 in rounds, one set per
//          connection per round, until --duration ends or the server goes away, then saves
//          what was sent and acknowledged per key to --log;
//   check: gets every key once and compares it with the --log of a write run: current, newer
//          (an unacknowledged write that landed), stale (older than acknowledged), corrupt, miss.
#pragma once

#include <string>

#include "tools/bench/bench_options.h"

namespace warmcache::tools::bench {

inline bool IsRestartMode(Mode mode) {
  return mode == Mode::kReady || mode == Mode::kWrite || mode == Mode::kCheck;
}

// Runs one of the modes above, prints a text summary on stdout and the JSON line like the other
// modes. Returns the exit status: 0 ok, 1 the run failed its check, 2 bad usage or setup.
int RunRestartMode(const BenchOptions& options);

}  // namespace warmcache::tools::bench
