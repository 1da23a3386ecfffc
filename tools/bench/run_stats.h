// SPDX-License-Identifier: BSD-3-Clause
// Counters and the time plan of one bench run.
#pragma once

#include <algorithm>
#include <cstdint>

#include "tools/bench/histogram.h"

namespace warmcache::tools::bench {

// Monotonic nanoseconds (CLOCK_MONOTONIC through std::chrono::steady_clock).
int64_t NowNs();

// When a run issues and measures. Requests completing inside [measure_start, measure_end) are
// counted; none are issued from measure_end on; at hard_end the run stops waiting for replies.
struct Schedule {
  int64_t start_ns = 0;
  int64_t measure_start_ns = 0;
  int64_t measure_end_ns = 0;
  int64_t hard_end_ns = 0;

  bool InWindow(int64_t t) const { return t >= measure_start_ns && t < measure_end_ns; }
};

// Per-thread counters, merged after the threads are joined.
// Throughput, latency and hit counters cover the measured window only; error counters cover
// the whole run, warm-up included, because any error means the numbers cannot be trusted.
struct RunStats {
  Histogram latency_ns;
  uint64_t requests = 0;  // completed requests (a multiget is one request)
  uint64_t gets = 0;      // get requests
  uint64_t get_keys = 0;  // keys asked by those gets
  uint64_t sets = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  int64_t first_issue_ns = 0;      // 0 until set
  int64_t last_completion_ns = 0;  // any completion, window or not

  uint64_t error_replies = 0;       // ERROR, CLIENT_ERROR, SERVER_ERROR, NOT_STORED, ...
  uint64_t bad_values = 0;          // VALUEs with wrong flags or bytes, plus replies with a
                                    // VALUE for a key not asked or out of order
  uint64_t malformed = 0;           // replies that do not parse
  uint64_t failed_connections = 0;  // closed by the server or by an I/O error
  uint64_t unfinished = 0;          // requests still without a reply when the run ended

  uint64_t errors() const {
    return error_replies + bad_values + malformed + failed_connections + unfinished;
  }

  void Merge(const RunStats& o) {
    latency_ns.Merge(o.latency_ns);
    requests += o.requests;
    gets += o.gets;
    get_keys += o.get_keys;
    sets += o.sets;
    hits += o.hits;
    misses += o.misses;
    if (o.first_issue_ns != 0) {
      first_issue_ns =
          first_issue_ns == 0 ? o.first_issue_ns : std::min(first_issue_ns, o.first_issue_ns);
    }
    last_completion_ns = std::max(last_completion_ns, o.last_completion_ns);
    error_replies += o.error_replies;
    bad_values += o.bad_values;
    malformed += o.malformed;
    failed_connections += o.failed_connections;
    unfinished += o.unfinished;
  }
};

}  // namespace warmcache::tools::bench
