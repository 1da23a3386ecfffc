// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/reply_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace warmcache::tools::bench {
namespace {

class ReplyParserTest : public ::testing::Test {
 protected:
  // Parses `wire` afresh; reply() holds the result.
  ParseStatus Parse(const std::string& wire, ExpectedReply expected = ExpectedReply::kRetrieval) {
    input_ = wire;
    return ParseReply(input_, expected, &reply_);
  }
  const Reply& reply() const { return reply_; }

 private:
  std::string input_;
  Reply reply_;
};

TEST_F(ReplyParserTest, EmptyGetReply) {
  ASSERT_EQ(ParseStatus::kOk, Parse("END\r\n"));
  EXPECT_EQ(ReplyKind::kEnd, reply().kind);
  EXPECT_TRUE(reply().values.empty());
  EXPECT_EQ(5u, reply().consumed);
}

TEST_F(ReplyParserTest, ValuesWithAndWithoutCas) {
  ASSERT_EQ(ParseStatus::kOk, Parse("VALUE a 5 3\r\nxyz\r\nVALUE bb 0 0 77\r\n\r\nEND\r\nSTORED"));
  ASSERT_EQ(2u, reply().values.size());
  EXPECT_EQ("a", reply().values[0].key);
  EXPECT_EQ(5u, reply().values[0].flags);
  EXPECT_EQ("xyz", reply().values[0].data);
  EXPECT_EQ("bb", reply().values[1].key);
  EXPECT_EQ("", reply().values[1].data);
  EXPECT_EQ(std::string("VALUE a 5 3\r\nxyz\r\nVALUE bb 0 0 77\r\n\r\nEND\r\n").size(),
            reply().consumed);
}

TEST_F(ReplyParserTest, ValueDataMayContainLineEnds) {
  ASSERT_EQ(ParseStatus::kOk, Parse("VALUE k 0 5\r\nEND\r\n\r\nEND\r\n"));
  ASSERT_EQ(1u, reply().values.size());
  EXPECT_EQ("END\r\n", reply().values[0].data);
}

TEST_F(ReplyParserTest, GetReplySplitAtEveryByte) {
  const std::string wire = "VALUE key:1 42 5\r\nhello\r\nVALUE key:2 0 2\r\nhi\r\nEND\r\n";
  for (size_t cut = 0; cut < wire.size(); ++cut) {
    ASSERT_EQ(ParseStatus::kNeedMore, Parse(wire.substr(0, cut))) << "cut=" << cut;
    EXPECT_GT(reply().need_total, cut) << "cut=" << cut;
  }
  ASSERT_EQ(ParseStatus::kOk, Parse(wire));
  ASSERT_EQ(2u, reply().values.size());
  EXPECT_EQ(42u, reply().values[0].flags);
  EXPECT_EQ("hello", reply().values[0].data);
}

TEST_F(ReplyParserTest, NeedTotalPointsPastTheValue) {
  ASSERT_EQ(ParseStatus::kNeedMore, Parse("VALUE k 0 1000\r\nabc"));
  EXPECT_EQ(std::string("VALUE k 0 1000\r\n").size() + 1000 + 2, reply().need_total);
}

TEST_F(ReplyParserTest, StorageReplies) {
  const std::pair<const char*, ReplyKind> cases[] = {
      {"STORED\r\n", ReplyKind::kStored}, {"NOT_STORED\r\n", ReplyKind::kNotStored},
      {"EXISTS\r\n", ReplyKind::kExists}, {"NOT_FOUND\r\n", ReplyKind::kNotFound},
      {"ERROR\r\n", ReplyKind::kError},
  };
  for (const auto& [wire, kind] : cases) {
    ASSERT_EQ(ParseStatus::kOk, Parse(wire, ExpectedReply::kStorage)) << wire;
    EXPECT_EQ(kind, reply().kind) << wire;
  }
}

TEST_F(ReplyParserTest, StorageReplySplitAtEveryByte) {
  const std::string wire = "STORED\r\n";
  for (size_t cut = 0; cut < wire.size(); ++cut) {
    EXPECT_EQ(ParseStatus::kNeedMore, Parse(wire.substr(0, cut), ExpectedReply::kStorage)) << cut;
  }
  EXPECT_EQ(ParseStatus::kOk, Parse(wire, ExpectedReply::kStorage));
}

TEST_F(ReplyParserTest, ErrorLinesCarryTheirMessage) {
  ASSERT_EQ(ParseStatus::kOk,
            Parse("SERVER_ERROR out of memory storing object\r\n", ExpectedReply::kStorage));
  EXPECT_EQ(ReplyKind::kServerError, reply().kind);
  EXPECT_EQ("out of memory storing object", reply().message);
  ASSERT_EQ(ParseStatus::kOk, Parse("VALUE a 0 1\r\nx\r\nCLIENT_ERROR bad data chunk\r\n"));
  EXPECT_EQ(ReplyKind::kClientError, reply().kind);
  EXPECT_EQ(1u, reply().values.size());
}

TEST_F(ReplyParserTest, ReplyForTheWrongCommandIsMalformed) {
  EXPECT_EQ(ParseStatus::kMalformed, Parse("STORED\r\n", ExpectedReply::kRetrieval));
  EXPECT_EQ(ParseStatus::kMalformed, Parse("END\r\n", ExpectedReply::kStorage));
  EXPECT_EQ(ParseStatus::kMalformed, Parse("VALUE a 0 1\r\nx\r\n", ExpectedReply::kStorage));
}

TEST_F(ReplyParserTest, BrokenRepliesAreMalformed) {
  const char* cases[] = {
      "END\n",  // bare LF
      "\r\n",   // empty line
      "VALUES a 0 1\r\nx\r\nEND\r\n",
      "VALUE a 0\r\nEND\r\n",         // no length
      "VALUE a x 1\r\nx\r\nEND\r\n",  // flags not a number
      "VALUE a 0 -1\r\nEND\r\n",
      "VALUE a 0 1 2 3\r\nx\r\nEND\r\n",
      "VALUE a 0 99999999999\r\n",      // larger than kMaxValueBytes
      "VALUE a 0 2\r\nxyz\r\nEND\r\n",  // data longer than announced
      "ENDX\r\n",
  };
  for (const char* wire : cases) EXPECT_EQ(ParseStatus::kMalformed, Parse(wire)) << wire;
}

TEST_F(ReplyParserTest, EndlessLineIsMalformed) {
  EXPECT_EQ(ParseStatus::kMalformed, Parse(std::string(kMaxLineBytes + 1, 'V')));
  EXPECT_EQ(ParseStatus::kNeedMore, Parse(std::string(100, 'V')));
}

}  // namespace
}  // namespace warmcache::tools::bench
