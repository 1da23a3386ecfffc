// SPDX-License-Identifier: BSD-3-Clause
// Runs one benchmark: opens the connections, starts the threads, merges their counters.
#pragma once

#include "server/common/status.h"
#include "tools/bench/bench_options.h"
#include "tools/bench/run_stats.h"

namespace warmcache::tools::bench {

struct RunResult {
  RunStats stats;
  Schedule schedule;
  double wall_s = 0;        // from the first request to the end of the run
  double client_cpu_s = 0;  // user + system CPU of this process over the same span
};

// Blocks for the whole run (bounded by the options' times). Fails with kInvalidArgument for a
// bad address and kIoError when the connections cannot be opened; server misbehaviour during
// the run is not a failure here but shows up in RunStats' error counters.
Result<RunResult> RunBench(const BenchOptions& options);

}  // namespace warmcache::tools::bench
