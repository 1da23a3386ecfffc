// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/run_stats.h"

#include <chrono>

namespace warmcache::tools::bench {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace warmcache::tools::bench
