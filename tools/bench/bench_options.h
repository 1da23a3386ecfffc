// SPDX-License-Identifier: BSD-3-Clause
// Command-line options of warmcache-bench.
#pragma once

#include <cstdint>
#include <string>

#include "server/common/status.h"

namespace warmcache::tools::bench {

enum class Mode {
  kLoad,      // set keys 0..keys-1 once each, pipelined, then stop
  kMixed,     // get:set mix over the key distribution for a fixed time
  kMultiget,  // "get" with multiget_keys keys per request for a fixed time
};

enum class Distribution { kUniform, kZipf };

struct BenchOptions {
  std::string host = "127.0.0.1";  // IPv4 literal of the server
  uint16_t port = 11211;
  Mode mode = Mode::kMixed;
  int connections = 50;       // spread round-robin over the threads
  int threads = 1;            // epoll loops, one per thread
  int depth = 1;              // requests in flight per connection (mixed, multiget)
  int load_depth = 32;        // requests in flight per connection in load mode
  uint64_t keys = 100000;     // key space [0, keys)
  uint32_t value_size = 100;  // bytes per value
  int get_percent = 90;       // mixed mode: share of gets, 0..100
  Distribution distribution = Distribution::kUniform;
  double zipf_theta = 0.99;   // zipf exponent, in (0, 1)
  int multiget_keys = 16;     // keys per get in multiget mode
  double duration_s = 10;     // measured time (mixed, multiget)
  double warmup_s = 2;        // unmeasured time before it
  double max_time_s = 120;    // load mode gives up (and fails) after this long
  double drain_s = 5;         // after the run, wait this long for replies in flight
  uint64_t max_requests = 0;  // stop issuing after this many requests; 0 = time only
  std::string key_prefix = "wcb:";
  uint64_t seed = 1;
  std::string label;      // free text copied into the JSON line (e.g. server name)
  std::string json_path;  // append the JSON line here; empty = print it on stdout
  bool help = false;
};

// Parses argv ("--name value" or "--name=value"). Errors are kInvalidArgument with a message.
Result<BenchOptions> ParseOptions(int argc, char** argv);
std::string UsageText();
const char* ModeName(Mode mode);
const char* DistributionName(Distribution distribution);

}  // namespace warmcache::tools::bench
