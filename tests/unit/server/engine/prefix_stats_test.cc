// SPDX-License-Identifier: BSD-3-Clause
#include "server/engine/prefix_stats.h"

#include <gtest/gtest.h>

namespace warmcache::engine {
namespace {

TEST(PrefixStatsTest, CountsOnlyKeysWithTheDelimiter) {
  PrefixStats stats(':', true);
  stats.RecordGet("user:1", true);
  stats.RecordGet("user:2", false);
  stats.RecordSet("user:3");
  stats.RecordDelete("page:1");
  stats.RecordGet("nodelimiter", true);
  // memcached 1.6.18 dumps these two in this order (its murmur3 bucket order), checked by hand.
  EXPECT_EQ(
      "PREFIX user get 2 hit 1 set 1 del 0\r\n"
      "PREFIX page get 0 hit 0 set 0 del 1\r\n"
      "END\r\n",
      stats.Dump());
  stats.Clear();
  EXPECT_EQ("END\r\n", stats.Dump());
}

}  // namespace
}  // namespace warmcache::engine
