// SPDX-License-Identifier: BSD-3-Clause
// The transcript parser, and the runner's ability to notice wrong replies (checked against
// the memcached oracle, so a lenient runner cannot make the conformance suite vacuous).
#include "tests/conformance/transcript.h"

#include <gtest/gtest.h>

#include "tests/conformance/transcript_runner.h"
#include "tests/testutil/oracle.h"
#include "tests/testutil/server_process.h"

namespace warmcache::conformance {
namespace {

Transcript MustParse(std::string_view text) {
  auto t = ParseTranscript("t", text);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : Transcript{};
}

TEST(TranscriptParseTest, LineKinds) {
  Transcript t = MustParse(
      "# args: -C -I 2k\n"
      "# args: -F\n"
      "# a plain comment\n"
      "\n"
      "> get a\n"
      ">> get\\x20b\\r\\n\n"
      "< END\n"
      "<< E\\n\n"
      "<~ VALUE a 0 1 \\d+\n"
      "<* STAT .*\n"
      "<closed\n"
      "@conn other\n"
      "@close\n"
      "+ get_hits -2\n"
      ">\n"
      "<quiet\n");
  EXPECT_EQ(t.extra_args, (std::vector<std::string>{"-C", "-I", "2k", "-F"}));
  ASSERT_EQ(t.steps.size(), 12u);
  EXPECT_EQ(StepBytes(t.steps[0], {}).value(), "get a\r\n");
  EXPECT_EQ(StepBytes(t.steps[1], {}).value(), "get b\r\n");
  EXPECT_EQ(StepBytes(t.steps[2], {}).value(), "END\r\n");
  EXPECT_EQ(StepBytes(t.steps[3], {}).value(), "E\n");
  EXPECT_EQ(t.steps[4].kind, StepKind::kExpectLineRegex);
  EXPECT_EQ(t.steps[4].text, "VALUE a 0 1 \\d+");
  EXPECT_EQ(t.steps[5].kind, StepKind::kExpectLinesRegex);
  EXPECT_EQ(t.steps[6].kind, StepKind::kExpectClosed);
  EXPECT_EQ(t.steps[7].kind, StepKind::kUseConnection);
  EXPECT_EQ(t.steps[7].text, "other");
  EXPECT_EQ(t.steps[8].kind, StepKind::kCloseConnection);
  EXPECT_EQ(t.steps[9].kind, StepKind::kStatsDelta);
  EXPECT_EQ(t.steps[9].delta, -2);
  EXPECT_TRUE(t.uses_stats_delta);
  EXPECT_EQ(StepBytes(t.steps[10], {}).value(), "\r\n");
  EXPECT_EQ(t.steps[10].line, 15);
  EXPECT_EQ(t.steps[11].kind, StepKind::kExpectQuiet);
}

TEST(TranscriptParseTest, Variables) {
  Context at100{100, nullptr};
  EXPECT_EQ(ExpandVariables("a${now}b", at100).value(), "a100b");
  EXPECT_EQ(ExpandVariables("${now+5} ${now-5}", at100).value(), "105 95");
  EXPECT_EQ(ExpandVariables("k${rep 3 ab}", {}).value(), "kababab");
  EXPECT_EQ(ExpandVariables("${rep 0 x}", {}).value(), "");
  EXPECT_FALSE(ExpandVariables("${nope}", {}).ok());
  EXPECT_FALSE(ExpandVariables("${now", {}).ok());
  EXPECT_FALSE(ExpandVariables("${now+}", {}).ok());
  EXPECT_FALSE(ExpandVariables("${rep x a}", {}).ok());
  std::vector<std::string> captures = {"whole", "12", "x"};
  Context with_captures{0, &captures};
  EXPECT_EQ(ExpandVariables("cas ${1} ${2}", with_captures).value(), "cas 12 x");
  EXPECT_FALSE(ExpandVariables("${3}", with_captures).ok());
  EXPECT_EQ(ExpandVariables("${rep 2 <${1}>}", with_captures).value(), "<12><12>");
  EXPECT_EQ(ExpandVariables("${rep ${1} a}", with_captures).value(), std::string(12, 'a'));
  EXPECT_EQ(ExpandVariables("${3}", {}).value(), "0");  // parse-time check
}

TEST(TranscriptParseTest, RejectsBrokenCases) {
  EXPECT_FALSE(ParseTranscript("t", "").ok());
  EXPECT_FALSE(ParseTranscript("t", "get a\n").ok());      // no prefix
  EXPECT_FALSE(ParseTranscript("t", "> get \\q\n").ok());  // bad escape
  EXPECT_FALSE(ParseTranscript("t", "<~ (\n").ok());       // bad regex
  EXPECT_FALSE(ParseTranscript("t", "+ get_hits\n").ok());
  auto bad = ParseTranscript("t", "> a\n\n<~ [\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 3"), std::string::npos);
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto oracle = testutil::FindOracle();
    if (!oracle) GTEST_SKIP() << "memcached (the oracle) is not installed";
    auto args = oracle->args;
    for (auto& a : testutil::EphemeralPortArgs()) args.push_back(a);
    auto server = testutil::ServerProcess::Start(oracle->binary, args);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }
  void TearDown() override {
    if (server_) server_->Kill9();
  }
  Status Run(std::string_view text) {
    RunOptions options;
    options.reply_timeout = std::chrono::milliseconds(300);
    options.quiet_period = std::chrono::milliseconds(50);
    return RunTranscript(MustParse(text), server_->port(), options);
  }
  std::unique_ptr<testutil::ServerProcess> server_;
};

TEST_F(RunnerTest, PassesCorrectTranscript) {
  Status s =
      Run("> set a 0 0 1\n> x\n< STORED\n"
          "> gets a\n<~ VALUE a 0 1 (\\d+)\n< x\n< END\n"
          "> cas a 0 0 1 ${1}\n> y\n< STORED\n"
          "> stats slabs\n<* STAT [0-9]+:\\w+ \\d+\n< STAT active_slabs 1\n"
          "<~ STAT total_malloced \\d+\n< END\n"
          "+ get_hits 1\n+ cmd_set 2\n"
          "@conn b\n> get a\n< VALUE a 0 1\n< y\n< END\n+ get_hits 1\n"
          "@conn main\n> quit\n<closed\n");
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST_F(RunnerTest, ReportsWrongReply) {
  Status s = Run("> get a\n< VALUE a 0 1\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("END\\r\\n"), std::string::npos) << s.message();
}

TEST_F(RunnerTest, ReportsShortReplyAndRegexMismatch) {
  EXPECT_FALSE(Run("> version\n< VERSION 1.6.18 and more\n").ok());
  EXPECT_FALSE(Run("> version\n<~ VERSION 2\\..*\n").ok());
  EXPECT_FALSE(Run("> version\n<< VERSION 1.6.18\n").ok());  // \r\n left unread at the end
}

TEST_F(RunnerTest, ReportsExtraAndMissingBytes) {
  Status extra = Run("> version\n");
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.message().find("unexpected bytes"), std::string::npos) << extra.message();
  EXPECT_FALSE(Run("> get a\n< END\n< END\n").ok());
  EXPECT_FALSE(Run("> version\n<closed\n").ok());
  EXPECT_FALSE(Run("> version\n<quiet\n< VERSION 1.6.18\n").ok());
  EXPECT_TRUE(Run(">> vers\n<quiet\n>> ion\\r\\n\n< VERSION 1.6.18\n").ok());
}

TEST_F(RunnerTest, ReportsWrongStatsDelta) {
  Status s = Run("> get a\n< END\n+ get_misses 2\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("changed by 1"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace warmcache::conformance
