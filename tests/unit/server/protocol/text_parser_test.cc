// SPDX-License-Identifier: BSD-3-Clause
#include "server/protocol/text_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "server/protocol/replies.h"

namespace warmcache::protocol {
namespace {

class ParserTest : public ::testing::Test {
 protected:
  ParseResult Parse(const std::string& wire) {
    input_ = wire;
    command_ = Command();
    result_ = parser_.Parse(input_, &command_);
    return result_;
  }
  ParseStatus Status(const std::string& wire) { return Parse(wire).status; }
  // The reply the parser itself sent for a malformed line.
  std::string ErrorReply(const std::string& wire) {
    ParseResult r = Parse(wire);
    EXPECT_EQ(ParseStatus::kError, r.status) << wire;
    return std::string(r.reply);
  }
  const Command& command() const { return command_; }

  ParserOptions options_{.max_value_len = 1024 * 1024, .max_get_line = 64 * 1024};
  TextParser parser_{options_};
  std::string input_;
  Command command_;
  ParseResult result_;
};

TEST_F(ParserTest, SetParsesEveryField) {
  ASSERT_EQ(ParseStatus::kOk, Status("set k 5 100 5\r\nhello\r\n"));
  EXPECT_EQ(CommandType::kSet, command().type);
  EXPECT_EQ("k", command().key);
  EXPECT_EQ(5u, command().flags);
  EXPECT_EQ(100, command().exptime);
  EXPECT_EQ("hello", command().value);
  EXPECT_FALSE(command().noreply);
  EXPECT_EQ(input_.size(), result_.consumed);
}

TEST_F(ParserTest, SetValueSplitAtEveryByte) {
  const std::string wire = "set k 0 0 5\r\nhello\r\n";
  for (size_t cut = 1; cut < wire.size(); ++cut) {
    EXPECT_EQ(ParseStatus::kNeedMore, Status(wire.substr(0, cut))) << "cut=" << cut;
  }
  EXPECT_EQ(ParseStatus::kOk, Status(wire));
  EXPECT_EQ("hello", command().value);
}

TEST_F(ParserTest, EveryCommandSplitAtEveryByteNeedsMore) {
  for (const std::string wire : {"get a b c\r\n",
                                 "gets a\r\n",
                                 "gat 10 a\r\n",
                                 "gats 10 a b\r\n",
                                 "add k 1 2 3\r\nabc\r\n",
                                 "replace k 1 2 0\r\n\r\n",
                                 "append k 0 0 1\r\nx\r\n",
                                 "prepend k 0 0 1\r\nx\r\n",
                                 "cas k 0 0 1 99\r\nx\r\n",
                                 "delete k\r\n",
                                 "incr k 5\r\n",
                                 "decr k 5\r\n",
                                 "touch k 9\r\n",
                                 "flush_all 10\r\n",
                                 "version\r\n",
                                 "verbosity 1\r\n",
                                 "quit\r\n",
                                 "stats items\r\n",
                                 "shutdown\r\n",
                                 "cache_memlimit 100\r\n",
                                 "mn\r\n"}) {
    for (size_t cut = 0; cut < wire.size(); ++cut) {
      EXPECT_EQ(ParseStatus::kNeedMore, Status(wire.substr(0, cut))) << wire << " cut=" << cut;
    }
    EXPECT_EQ(ParseStatus::kOk, Status(wire)) << wire;
    EXPECT_EQ(wire.size(), result_.consumed) << wire;
  }
}

TEST_F(ParserTest, PipelineParsesOneCommandAtATime) {
  std::string wire = "set a 0 0 1\r\n1\r\nget a\r\ndelete a\r\n";
  std::string_view rest = wire;
  std::vector<CommandType> types;
  while (!rest.empty()) {
    Command cmd;
    ParseResult r = parser_.Parse(rest, &cmd);
    ASSERT_EQ(ParseStatus::kOk, r.status);
    types.push_back(cmd.type);
    rest.remove_prefix(r.consumed);
  }
  EXPECT_EQ((std::vector<CommandType>{CommandType::kSet, CommandType::kGet, CommandType::kDelete}),
            types);
}

TEST_F(ParserTest, GetFamily) {
  ASSERT_EQ(ParseStatus::kOk, Status("get a bb ccc\r\n"));
  EXPECT_EQ(CommandType::kGet, command().type);
  EXPECT_EQ("a bb ccc", command().keys);
  ASSERT_EQ(ParseStatus::kOk, Status("gats 300 a\r\n"));
  EXPECT_EQ(CommandType::kGats, command().type);
  EXPECT_EQ(300, command().exptime);
  EXPECT_EQ("a", command().keys);
  ASSERT_EQ(ParseStatus::kOk, Status("bget a\r\n"));
  EXPECT_EQ(CommandType::kGet, command().type);
  EXPECT_EQ(reply::kInvalidExptime, ErrorReply("gat abc a\r\n"));
  EXPECT_EQ(reply::kError, ErrorReply("get\r\n"));
  EXPECT_EQ(reply::kError, ErrorReply("getx a\r\n"));
}

TEST_F(ParserTest, MoreThanTwentyThreeKeysAreAllKept) {
  std::string line = "get";
  std::string keys;
  for (int i = 0; i < 100; ++i) keys += (i ? " k" : "k") + std::to_string(i);
  ASSERT_EQ(ParseStatus::kOk, Status(line + " " + keys + "\r\n"));
  EXPECT_EQ(keys, command().keys);
}

TEST_F(ParserTest, KeyLengthLimit) {
  const std::string ok(250, 'k');
  const std::string long_key(251, 'k');
  EXPECT_EQ(ParseStatus::kOk, Status("get " + ok + "\r\n"));
  EXPECT_EQ(reply::kBadFormat, ErrorReply("get a " + long_key + " b\r\n"));
  EXPECT_EQ(reply::kBadFormat, ErrorReply("set " + long_key + " 0 0 1\r\n"));
  EXPECT_EQ(reply::kBadFormat, ErrorReply("delete " + long_key + "\r\n"));
  EXPECT_EQ(reply::kBadFormat, ErrorReply("incr " + long_key + " 1\r\n"));
  EXPECT_EQ(reply::kBadFormat, ErrorReply("touch " + long_key + " 1\r\n"));
}

TEST_F(ParserTest, StorageErrors) {
  EXPECT_EQ(reply::kBadFormat, ErrorReply("set k abc 0 1\r\n"));
  EXPECT_EQ(reply::kBadFormat, ErrorReply("set k 0 abc 1\r\n"));
  EXPECT_EQ(reply::kBadFormat, ErrorReply("set k 0 0 abc\r\n"));
  EXPECT_EQ(reply::kBadFormat, ErrorReply("set k 0 0 -1\r\n"));
  EXPECT_EQ(reply::kBadFormat, ErrorReply("set k 0 0 4294967295\r\n"));  // -1 as int32
  EXPECT_EQ(reply::kBadFormat, ErrorReply("cas k 0 0 1 abc\r\n"));
  EXPECT_EQ(reply::kError, ErrorReply("set k 0 0\r\n"));
  EXPECT_EQ(reply::kError, ErrorReply("set k 0 0 1 2 3\r\n"));
  EXPECT_EQ(reply::kError, ErrorReply("cas k 0 0 1\r\n"));
  // The line alone is consumed: the data line that follows is read as a command.
  Parse("set k 0 0 -1\r\nx\r\n");
  EXPECT_EQ(14u, result_.consumed);
}

TEST_F(ParserTest, BadDataChunkConsumesTheBlock) {
  const std::string wire = "set k 0 0 1\r\nxy\r\n";
  EXPECT_EQ(reply::kBadDataChunk, ErrorReply(wire));
  EXPECT_EQ(16u, result_.consumed);  // line + 1 + 2
}

TEST_F(ParserTest, NoreplySuppressesParserErrorsOfCommandsThatTakeIt) {
  ParseResult r = Parse("set k abc 0 1 noreply\r\n");
  EXPECT_EQ(ParseStatus::kError, r.status);
  EXPECT_TRUE(r.reply.empty());
  ASSERT_EQ(ParseStatus::kOk, Status("set k 0 0 1 noreply\r\nx\r\n"));
  EXPECT_TRUE(command().noreply);
  ASSERT_EQ(ParseStatus::kOk, Status("set k 0 0 1 other\r\nx\r\n"));
  EXPECT_FALSE(command().noreply);
}

TEST_F(ParserTest, OversizedValueIsSwallowedNotBuffered) {
  ASSERT_EQ(ParseStatus::kOk, Status("set k 0 0 2000000\r\n"));
  EXPECT_TRUE(command().too_large);
  EXPECT_EQ(2000002u, command().swallow);
  EXPECT_EQ(19u, result_.consumed);
}

TEST_F(ParserTest, DeleteForms) {
  EXPECT_EQ(ParseStatus::kOk, Status("delete k\r\n"));
  EXPECT_EQ(ParseStatus::kOk, Status("delete k 0\r\n"));
  ASSERT_EQ(ParseStatus::kOk, Status("delete k noreply\r\n"));
  EXPECT_TRUE(command().noreply);
  EXPECT_EQ(ParseStatus::kOk, Status("delete k 0 noreply\r\n"));
  EXPECT_EQ(reply::kDeleteUsage, ErrorReply("delete k 1\r\n"));
  EXPECT_EQ(reply::kError, ErrorReply("delete k 0 noreply x\r\n"));
  EXPECT_TRUE(ErrorReply("delete k 1 noreply\r\n").empty());
}

TEST_F(ParserTest, ArithmeticTouchFlushVerbosity) {
  ASSERT_EQ(ParseStatus::kOk, Status("incr k 18446744073709551615\r\n"));
  EXPECT_EQ(UINT64_MAX, command().delta);
  EXPECT_EQ(reply::kInvalidDelta, ErrorReply("decr k -1\r\n"));
  EXPECT_EQ(reply::kInvalidExptime, ErrorReply("touch k x\r\n"));
  ASSERT_EQ(ParseStatus::kOk, Status("flush_all 10 noreply\r\n"));
  EXPECT_EQ(10, command().exptime);
  EXPECT_TRUE(command().noreply);
  ASSERT_EQ(ParseStatus::kOk, Status("flush_all abc\r\n"));
  EXPECT_EQ(reply::kInvalidExptime, command().arg_error);
  EXPECT_EQ(reply::kError, ErrorReply("flush_all 1 2 3\r\n"));
  EXPECT_EQ(reply::kBadFormat, ErrorReply("verbosity x\r\n"));
  EXPECT_EQ(reply::kError, ErrorReply("verbosity\r\n"));
}

TEST_F(ParserTest, UnknownEmptyAndShortLinesAreErrors) {
  for (const char* wire : {"\r\n", " \r\n", "x\r\n", "GET k\r\n", "sets k\r\n", "mg k\r\n"}) {
    EXPECT_EQ(reply::kError, ErrorReply(wire)) << wire;
  }
}

TEST_F(ParserTest, BareNewlineAndNulByte) {
  ASSERT_EQ(ParseStatus::kOk, Status("get k\n"));
  EXPECT_EQ("k", command().keys);
  ASSERT_EQ(ParseStatus::kOk, Status(std::string("get k\0junk\r\n", 12)));
  EXPECT_EQ("k", command().keys);
  EXPECT_EQ(12u, result_.consumed);
}

TEST_F(ParserTest, LongLinesWithoutNewline) {
  EXPECT_EQ(ParseStatus::kNeedMore, Status(std::string(2048, 'x')));
  EXPECT_EQ(ParseStatus::kClose, Status(std::string(2049, 'x')));
  EXPECT_EQ(ParseStatus::kNeedMore, Status("get " + std::string(5000, 'k')));
  EXPECT_EQ(ParseStatus::kClose, Status("get " + std::string(70 * 1024, 'k')));
}

TEST_F(ParserTest, StatsAndShutdownArguments) {
  ASSERT_EQ(ParseStatus::kOk, Status("stats detail dump\r\n"));
  ASSERT_EQ(2, command().nargs);
  EXPECT_EQ("detail", command().args[0]);
  EXPECT_EQ("dump", command().args[1]);
  ASSERT_EQ(ParseStatus::kOk, Status("shutdown graceful\r\n"));
  EXPECT_EQ(CommandType::kShutdown, command().type);
  EXPECT_EQ(1, command().nargs);
}

}  // namespace
}  // namespace warmcache::protocol

namespace warmcache::protocol {
namespace {

class MetaParserTest : public ::testing::Test {
 protected:
  ParseResult Parse(const std::string& wire) {
    input_ = wire;
    command_ = Command();
    return parser_.Parse(input_, &command_, &meta_);
  }
  TextParser parser_{ParserOptions{}};
  std::string input_;
  Command command_;
  MetaRequest meta_;
};

TEST_F(MetaParserTest, FlagsKeepTheirOrderAndValues) {
  ASSERT_EQ(ParseStatus::kOk, Parse("mg key v T30 Oop k q N60 R5\r\n").status);
  EXPECT_EQ(CommandType::kMetaGet, command_.type);
  EXPECT_EQ("key", command_.key);
  ASSERT_EQ(7, meta_.nflags);
  EXPECT_EQ('v', meta_.flags[0].code);
  EXPECT_EQ('O', meta_.flags[2].code);
  EXPECT_EQ("op", meta_.flags[2].token);
  EXPECT_TRUE(meta_.value && meta_.quiet && meta_.vivify && meta_.has_ttl && meta_.has_recache);
  EXPECT_EQ(30, meta_.ttl);
  EXPECT_EQ(60, meta_.vivify_ttl);
  EXPECT_TRUE(command_.noreply);
}

TEST_F(MetaParserTest, Base64KeysAreDecoded) {
  ASSERT_EQ(ParseStatus::kOk, Parse("mg a2V5 b v\r\n").status);
  EXPECT_EQ("key", command_.key);
  EXPECT_TRUE(meta_.key_binary);
  EXPECT_EQ("CLIENT_ERROR error decoding key\r\n", Parse("mg !!!! b\r\n").reply);
}

TEST_F(MetaParserTest, ErrorsInMemcachedsWords) {
  EXPECT_EQ("CLIENT_ERROR duplicate flag\r\n", Parse("mg k v v\r\n").reply);
  EXPECT_EQ("CLIENT_ERROR invalid flag\r\n", Parse("mg k x\r\n").reply);
  EXPECT_EQ("CLIENT_ERROR invalid or duplicate flag\r\n", Parse("md k x\r\n").reply);
  EXPECT_EQ("CLIENT_ERROR bad token in command line format\r\n", Parse("mg k Tx\r\n").reply);
  EXPECT_EQ("CLIENT_ERROR invalid mode for ma M token\r\n", Parse("ma k MX\r\n").reply);
  EXPECT_EQ("CLIENT_ERROR opaque token too long\r\n",
            Parse("md k O" + std::string(32, 'o') + "\r\n").reply);
  // mg reports it only after acting, as memcached does: the parser just notes where it is.
  ASSERT_EQ(ParseStatus::kOk, Parse("mg k v O" + std::string(32, 'o') + "\r\n").status);
  EXPECT_TRUE(meta_.opaque_too_long);
  EXPECT_EQ(1, meta_.long_opaque_at);
  EXPECT_EQ("ERROR\r\n", Parse("mg\r\n").reply);
  // An ms error still discards its data block.
  ASSERT_EQ(ParseStatus::kOk, Parse("ms k 3 MX\r\nabc\r\n").status);
  EXPECT_EQ("CLIENT_ERROR invalid mode for ms M token\r\n", command_.arg_error);
  EXPECT_EQ(5u, command_.swallow);
}

TEST_F(MetaParserTest, MetaSetWaitsForItsDataBlock) {
  const std::string wire = "ms k 5 T10 F3 c\r\nhello\r\n";
  for (size_t cut = 1; cut < wire.size(); ++cut) {
    EXPECT_EQ(ParseStatus::kNeedMore, Parse(wire.substr(0, cut)).status) << cut;
  }
  ASSERT_EQ(ParseStatus::kOk, Parse(wire).status);
  EXPECT_EQ("hello", command_.value);
  EXPECT_EQ(3u, meta_.client_flags);
}

}  // namespace
}  // namespace warmcache::protocol
