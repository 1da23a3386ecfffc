// SPDX-License-Identifier: BSD-3-Clause
#include "server/protocol/replies.h"

#include <gtest/gtest.h>

namespace warmcache::protocol::reply {
namespace {

TEST(RepliesTest, ValueHeaderWithAndWithoutCas) {
  char buf[kMaxValueHeader];
  EXPECT_EQ("VALUE k 5 10\r\n", std::string(buf, FormatValueHeader(buf, "k", 5, 10, nullptr)));
  const uint64_t cas = 18446744073709551615u;
  EXPECT_EQ("VALUE key 4294967295 0 18446744073709551615\r\n",
            std::string(buf, FormatValueHeader(buf, "key", 4294967295u, 0, &cas)));
}

TEST(RepliesTest, StatLines) {
  std::string out;
  AppendStat(out, "pid", uint64_t{42});
  AppendStat(out, "version", "1.6.18");
  EXPECT_EQ("STAT pid 42\r\nSTAT version 1.6.18\r\n", out);
}

}  // namespace
}  // namespace warmcache::protocol::reply
