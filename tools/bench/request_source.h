// SPDX-License-Identifier: BSD-3-Clause
// Decides what each connection sends next, and when the run stops sending.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "tools/bench/bench_options.h"
#include "tools/bench/key_chooser.h"
#include "tools/bench/run_stats.h"

namespace warmcache::tools::bench {

struct Request {
  bool is_get = false;
  std::vector<uint64_t> key_ids;  // one for a set; one or more for a get
};

// Counters shared by every thread of a run.
struct SharedCounters {
  std::atomic<uint64_t> next_position{0};  // load, verify: next position in the key order
  std::atomic<uint64_t> issued{0};         // requests issued, for --max-requests
};

// Thread safety: one per thread; only `shared` is touched by several threads.
class RequestSource {
 public:
  RequestSource(const BenchOptions* options, const KeyChooser* chooser, const Schedule* schedule,
                SharedCounters* shared, uint64_t seed);

  // Fills `*request` with the next request, or returns false once the run sends nothing more
  // (past the measured window, past --max-requests, or every key loaded or verified).
  bool Next(int64_t now_ns, Request* request);

 private:
  bool NextVerify(Request* request);

  const BenchOptions* options_;  // not owned; outlives the run
  const KeyChooser* chooser_;    // not owned
  const Schedule* schedule_;     // not owned
  SharedCounters* shared_;       // not owned
  KeyScatter scatter_;           // verify mode's scattered order
  Rng rng_;
  bool exhausted_ = false;
};

}  // namespace warmcache::tools::bench
