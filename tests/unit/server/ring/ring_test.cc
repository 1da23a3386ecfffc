// SPDX-License-Identifier: BSD-3-Clause
#include "server/ring/ring.h"

#include <gtest/gtest.h>

namespace warmcache::ring {
namespace {

TEST(RingTest, Placeholder) {
  std::vector<Node> nodes(3);
  nodes[1].port = 11212;
  const Ring ring = Ring::Build(Distribution::kKetama, KeyHash::kMd5, nodes);
  EXPECT_EQ(480u, ring.points().size());
}

}  // namespace
}  // namespace warmcache::ring
