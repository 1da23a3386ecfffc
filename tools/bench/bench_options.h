// SPDX-License-Identifier: BSD-3-Clause
// Command-line options of warmcache-bench.
#pragma once

#include <cstdint>
#include <string>

#include "server/common/status.h"
#include "tools/bench/value_generator.h"

namespace warmcache::tools::bench {

enum class Mode {
  kLoad,      // set keys 0..keys-1 once each, pipelined, then stop
  kMixed,     // get:set mix over the key distribution for a fixed time
  kMultiget,  // "get" with multiget_keys keys per request for a fixed time
  kVerify,    // get keys 0..keys-1 once each (multiget_keys per get), pipelined, then stop
  kReady,     // poll "version" until the server answers (restart_modes.h)
  kWrite,     // versioned sets until duration ends or the server dies; saves log_path
  kCheck,     // get every key and compare with the log of a write run
};

enum class Distribution { kUniform, kZipf };

// The order verify mode reads the keys in.
enum class KeyOrder {
  kSequential,  // 0, 1, 2, ...
  kScattered,   // a fixed permutation that spreads neighbours far apart (see KeyScatter)
};

struct BenchOptions {
  std::string host = "127.0.0.1";  // IPv4 literal of the server
  uint16_t port = 11211;
  Mode mode = Mode::kMixed;
  int connections = 50;       // spread round-robin over the threads
  int threads = 1;            // epoll loops, one per thread
  int depth = 1;              // requests in flight per connection (mixed, multiget)
  int load_depth = 32;        // requests in flight per connection in load and verify modes
  uint64_t keys = 100000;     // key space [0, keys)
  uint32_t value_size = 100;  // bytes per value
  ValueKind value_kind = ValueKind::kFill;
  int get_percent = 90;  // mixed mode: share of gets, 0..100
  Distribution distribution = Distribution::kUniform;
  double zipf_theta = 0.99;               // zipf exponent, in (0, 1)
  int multiget_keys = 16;                 // keys per get in multiget and verify modes
  KeyOrder order = KeyOrder::kScattered;  // verify mode
  double duration_s = 10;                 // measured time (mixed, multiget)
  double warmup_s = 2;                    // unmeasured time before it
  double max_time_s = 120;    // load and verify modes give up (and fail) after this long
  double drain_s = 5;         // after the run, wait this long for replies in flight
  uint64_t max_requests = 0;  // stop issuing after this many requests; 0 = time only
  std::string key_prefix = "wcb:";
  uint64_t seed = 1;
  std::string label;      // free text copied into the JSON line (e.g. server name)
  std::string json_path;  // append the JSON line here; empty = print it on stdout
  std::string log_path;   // write mode saves, check mode reads, the per-key versions here
  int poll_ms = 5;        // ready mode: a fresh connection this often
  bool help = false;
};

// Parses argv ("--name value" or "--name=value"). Errors are kInvalidArgument with a message.
Result<BenchOptions> ParseOptions(int argc, char** argv);
std::string UsageText();
const char* ModeName(Mode mode);
const char* DistributionName(Distribution distribution);
const char* KeyOrderName(KeyOrder order);
// Load and verify visit every key once and stop; the other modes run for a time.
inline bool IsOnePass(Mode mode) { return mode == Mode::kLoad || mode == Mode::kVerify; }

}  // namespace warmcache::tools::bench
