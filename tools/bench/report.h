// SPDX-License-Identifier: BSD-3-Clause
// Turns a run's counters into figures, human text and one JSON line.
#pragma once

#include <cstdint>
#include <string>

#include "tools/bench/bench_options.h"
#include "tools/bench/bench_runner.h"

namespace warmcache::tools::bench {

struct Summary {
  double seconds = 0;         // measured time the rates are divided by
  double requests_per_s = 0;  // a multiget counts once
  double keys_per_s = 0;      // every key a get asked for, plus every set
  double hit_ratio = 0;       // hits / keys asked by gets; 0 when there were no gets
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0, mean_us = 0;
  uint64_t errors = 0;
  bool complete = true;  // load mode: every key stored; verify mode: every key asked
  bool ok() const { return errors == 0 && complete; }
};

Summary Summarize(const BenchOptions& options, const RunResult& run);
std::string FormatText(const BenchOptions& options, const RunResult& run, const Summary& summary);
// One line of flat JSON (no nesting, so shell scripts can pick fields with grep).
std::string FormatJson(const BenchOptions& options, const RunResult& run, const Summary& summary);

}  // namespace warmcache::tools::bench
