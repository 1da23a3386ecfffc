// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/request_source.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace warmcache::tools::bench {
namespace {

// Runs two sources (two threads' worth) against shared counters until both are exhausted and
// returns how often each key was asked.
std::vector<int> VerifyCounts(const BenchOptions& options, std::vector<size_t>* get_sizes) {
  Schedule schedule;
  schedule.measure_end_ns = std::numeric_limits<int64_t>::max();
  SharedCounters shared;
  const auto chooser = MakeUniformChooser(options.keys);
  RequestSource a(&options, chooser.get(), &schedule, &shared, 1);
  RequestSource b(&options, chooser.get(), &schedule, &shared, 2);
  std::vector<int> seen(options.keys, 0);
  Request request;
  for (bool more = true; more;) {
    more = false;
    for (RequestSource* source : {&a, &b}) {
      if (!source->Next(0, &request)) continue;
      more = true;
      EXPECT_TRUE(request.is_get);
      get_sizes->push_back(request.key_ids.size());
      for (uint64_t id : request.key_ids) ++seen.at(id);
    }
  }
  return seen;
}

TEST(RequestSourceTest, VerifyAsksEveryKeyOnceInEitherOrder) {
  for (KeyOrder order : {KeyOrder::kSequential, KeyOrder::kScattered}) {
    BenchOptions options;
    options.mode = Mode::kVerify;
    options.keys = 1003;
    options.multiget_keys = 16;
    options.order = order;
    std::vector<size_t> sizes;
    for (int count : VerifyCounts(options, &sizes)) ASSERT_EQ(1, count) << KeyOrderName(order);
    ASSERT_EQ(63u, sizes.size());  // 62 full gets and one of 11
    EXPECT_EQ(11u, sizes.back());
  }
}

TEST(RequestSourceTest, ScatteredOrderSpreadsNeighbours) {
  BenchOptions options;
  options.mode = Mode::kVerify;
  options.keys = 100000;
  options.multiget_keys = 4;
  Schedule schedule;
  schedule.measure_end_ns = std::numeric_limits<int64_t>::max();
  SharedCounters shared;
  const auto chooser = MakeUniformChooser(options.keys);
  RequestSource source(&options, chooser.get(), &schedule, &shared, 1);
  Request request;
  ASSERT_TRUE(source.Next(0, &request));
  ASSERT_EQ(4u, request.key_ids.size());
  for (size_t i = 1; i < request.key_ids.size(); ++i) {
    const uint64_t a = request.key_ids[i - 1];
    const uint64_t b = request.key_ids[i];
    EXPECT_GT(a > b ? a - b : b - a, 1000u);
  }
}

}  // namespace
}  // namespace warmcache::tools::bench
