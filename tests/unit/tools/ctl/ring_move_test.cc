// SPDX-License-Identifier: BSD-3-Clause
// `warmcachectl ring move`'s pure parts: the TTL an item keeps, and matching quiet replies to
// the requests of a batch. tests/integration/handoff_test.cc runs the command on real servers.
#include "tools/ctl/ring_move.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace warmcache::ctl {
namespace {

TEST(RemainingTtlTest, KeepsTheExpiry) {
  const int64_t now = 1'700'000'000;
  EXPECT_EQ(0, RemainingTtl(0, now));  // never expires
  EXPECT_EQ(-1, RemainingTtl(static_cast<uint32_t>(now - 5), now));
  EXPECT_EQ(-1, RemainingTtl(static_cast<uint32_t>(now), now));  // gone from its second on
  EXPECT_EQ(1, RemainingTtl(static_cast<uint32_t>(now + 1), now));
  const int64_t thirty_days = 30 * 86'400;
  EXPECT_EQ(thirty_days, RemainingTtl(static_cast<uint32_t>(now + thirty_days), now));
  // Beyond 30 days memcached reads T as a unix time, so the absolute time is sent.
  EXPECT_EQ(now + thirty_days + 1, RemainingTtl(static_cast<uint32_t>(now + thirty_days + 1), now));
}

TEST(MatchQuietRepliesTest, SuccessesAreSilent) {
  const QuietReplies r = MatchQuietReplies({}, 3);
  EXPECT_EQ(std::vector<std::string>(3, ""), r.codes);
  EXPECT_TRUE(r.errors.empty());
}

TEST(MatchQuietRepliesTest, CodesFindTheirRequestByOpaque) {
  const QuietReplies r = MatchQuietReplies({"NS O2", "EX k O0 b", "NF Ofoo O1"}, 4);
  EXPECT_EQ((std::vector<std::string>{"EX", "NF", "NS", ""}), r.codes);
  EXPECT_TRUE(r.errors.empty());
}

TEST(MatchQuietRepliesTest, LinesNamingNoRequestAreErrors) {
  const QuietReplies r =
      MatchQuietReplies({"SERVER_ERROR object too large for cache", "CLIENT_ERROR bad data chunk",
                         "NS O7", "NS", "NS O1", "NS O1", "NS O99999999999"},
                        2);
  EXPECT_EQ((std::vector<std::string>{"", "NS"}), r.codes);
  // Unknown or repeated opaques cannot be trusted either.
  EXPECT_EQ((std::vector<std::string>{"SERVER_ERROR object too large for cache",
                                      "CLIENT_ERROR bad data chunk", "NS O7", "NS", "NS O1",
                                      "NS O99999999999"}),
            r.errors);
}

}  // namespace
}  // namespace warmcache::ctl
