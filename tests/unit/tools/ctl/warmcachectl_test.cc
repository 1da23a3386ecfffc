// SPDX-License-Identifier: BSD-3-Clause
// The report helpers, and the built warmcachectl binary run on generated snapshot files.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "server/common/clock.h"
#include "storage/snapshot/snapshot_writer.h"
#include "tests/testutil/run_command.h"
#include "tests/testutil/temp_dir.h"
#include "tools/ctl/ctl_args.h"
#include "tools/ctl/snapshot_summary.h"

namespace warmcache::ctl {
namespace {

using storage::snapshot::SnapshotInfo;
using storage::snapshot::SnapshotRecord;
using storage::snapshot::SnapshotWriter;

TEST(TtlHistogramTest, BucketsRelativeToNow) {
  const int64_t now = 1'700'000'000;
  TtlHistogram h;
  h.Add(0, now);
  h.Add(static_cast<uint32_t>(now), now);  // expires at now: already expired
  h.Add(static_cast<uint32_t>(now + 59), now);
  h.Add(static_cast<uint32_t>(now + 60), now);
  h.Add(static_cast<uint32_t>(now + 3599), now);
  h.Add(static_cast<uint32_t>(now + 86'399), now);
  h.Add(static_cast<uint32_t>(now + 29 * 86'400), now);
  h.Add(static_cast<uint32_t>(now + 30 * 86'400), now);
  const uint64_t expected[TtlHistogram::kBuckets] = {1, 1, 1, 2, 1, 1, 1};
  for (int b = 0; b < TtlHistogram::kBuckets; ++b) {
    EXPECT_EQ(expected[b], h.count(b)) << TtlHistogram::Label(b);
  }
}

TEST(FormatTest, UtcAndDurations) {
  EXPECT_EQ("2023-11-14T22:13:20Z", FormatUtc(1'700'000'000));
  EXPECT_EQ("0s", FormatDuration(0));
  EXPECT_EQ("1m 5s", FormatDuration(65));
  EXPECT_EQ("2h 0m", FormatDuration(7200));
  EXPECT_EQ("3d 1h", FormatDuration(3 * 86'400 + 3600 + 5));
}

TEST(ParseOnePathTest, OnePathHelpOrError) {
  EXPECT_EQ("f", ParseOnePath({"f"}).path);
  EXPECT_EQ("-f", ParseOnePath({"--", "-f"}).path);
  EXPECT_EQ(PathArgs::Kind::kHelp, ParseOnePath({"x", "--help"}).kind);
  EXPECT_EQ(PathArgs::Kind::kError, ParseOnePath({}).kind);
  EXPECT_EQ(PathArgs::Kind::kError, ParseOnePath({"a", "b"}).kind);
  EXPECT_EQ(PathArgs::Kind::kError, ParseOnePath({"-x", "a"}).kind);
}

class WarmcachectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testutil::TempDir::Create("wc_ctl_test_");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(dir).value();
    path_ = dir_->File("cache.wcsnap");
    const int64_t now = SystemClock::Get()->NowSeconds();
    SnapshotInfo info;
    info.created_unix = now - 3600;
    info.source = "127.0.0.1:11211";
    info.next_cas = 10'000;
    auto writer = SnapshotWriter::Open(path_, info);
    ASSERT_TRUE(writer.ok());
    // 300 never expire, 200 expired, 100 with a day to live.
    for (uint32_t i = 0; i < 600; ++i) {
      SnapshotRecord r{"key" + std::to_string(i), 0, 0, i + 1, 0, 0, std::string(100, 'v')};
      if (i >= 300) r.exptime = static_cast<uint32_t>(i < 500 ? now - 10 : now + 2 * 86'400);
      ASSERT_TRUE((*writer)->Add(r).ok());
    }
    ASSERT_TRUE((*writer)->Finish().ok());
  }

  static testutil::CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), WC_WARMCACHECTL_PATH);
    auto result = testutil::RunCommand(args, std::chrono::seconds(20));
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : testutil::CommandResult{-1, ""};
  }

  // Runs warmcachectl and keeps only its stderr.
  static testutil::CommandResult RunStderr(const std::vector<std::string>& args) {
    std::vector<std::string> sh = {"/bin/sh", "-c", "\"$0\" \"$@\" 2>&1 >/dev/null",
                                   WC_WARMCACHECTL_PATH};
    sh.insert(sh.end(), args.begin(), args.end());
    auto result = testutil::RunCommand(sh, std::chrono::seconds(20));
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : testutil::CommandResult{-1, ""};
  }

  std::string TruncatedCopy() {
    const std::string file = testutil::ReadFileOrEmpty(path_);
    const std::string cut = dir_->File("cut.wcsnap");
    std::ofstream(cut, std::ios::binary) << file.substr(0, file.size() - 10);
    return cut;
  }

  std::unique_ptr<testutil::TempDir> dir_;
  std::string path_;
};

TEST_F(WarmcachectlTest, InspectShowsCountsAndTtlHistogram) {
  const testutil::CommandResult r = Run({"snapshot", "inspect", path_});
  EXPECT_EQ(kExitOk, r.exit_status) << r.output;
  for (const char* expected :
       {"format version:    1", "source:            127.0.0.1:11211", "records:           600",
        "value bytes:       60000", "(1h 0m ago)", "  never expires    300\n",
        "  already expired  200\n", "  < 1 min          0\n", "  < 30 days        100\n",
        "  longer           0\n", "checksums:         ok"}) {
    EXPECT_NE(std::string::npos, r.output.find(expected)) << expected << "\n" << r.output;
  }
}

TEST_F(WarmcachectlTest, VerifyAcceptsAnIntactFile) {
  const testutil::CommandResult r = Run({"snapshot", "verify", path_});
  EXPECT_EQ(kExitOk, r.exit_status);
  EXPECT_EQ("OK: 600 records, 63490 bytes, checksums verified\n", r.output);
}

TEST_F(WarmcachectlTest, VerifyRejectsATruncatedCopyWithOneLine) {
  const std::string cut = TruncatedCopy();
  const testutil::CommandResult r = RunStderr({"snapshot", "verify", cut});
  EXPECT_EQ(kExitFailure, r.exit_status);
  EXPECT_EQ("warmcachectl: " + cut + ": truncated: ends inside the trailer at byte ",
            r.output.substr(0, r.output.rfind(' ') + 1));
  EXPECT_EQ(1, std::count(r.output.begin(), r.output.end(), '\n')) << r.output;
}

TEST_F(WarmcachectlTest, InspectReportsDamage) {
  const testutil::CommandResult r = Run({"snapshot", "inspect", TruncatedCopy()});
  EXPECT_EQ(kExitFailure, r.exit_status);
  EXPECT_NE(std::string::npos, r.output.find("checksums:         FAILED: truncated")) << r.output;
}

TEST_F(WarmcachectlTest, ForeignFilesExitOne) {
  EXPECT_EQ(kExitFailure, Run({"snapshot", "verify", dir_->path()}).exit_status);
  const std::string text = dir_->File("hello.txt");
  std::ofstream(text) << "hello\n";
  const testutil::CommandResult r = RunStderr({"snapshot", "inspect", text});
  EXPECT_EQ(kExitFailure, r.exit_status);
  EXPECT_EQ("warmcachectl: " + text + ": not a warmcache snapshot file\n", r.output);
}

TEST_F(WarmcachectlTest, BadUsageExits64) {
  EXPECT_EQ(kExitUsage, Run({}).exit_status);
  EXPECT_EQ(kExitUsage, Run({"nosuch"}).exit_status);
  EXPECT_EQ(kExitUsage, Run({"snapshot"}).exit_status);
  EXPECT_EQ(kExitUsage, Run({"snapshot", "frobnicate", path_}).exit_status);
  EXPECT_EQ(kExitUsage, Run({"snapshot", "verify"}).exit_status);
  EXPECT_EQ(kExitUsage, Run({"snapshot", "verify", path_, path_}).exit_status);
  EXPECT_EQ(kExitUsage, Run({"snapshot", "inspect", "--bogus", path_}).exit_status);
}

TEST_F(WarmcachectlTest, HelpExitsZero) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--help"},
                                                                {"snapshot", "-h"},
                                                                {"snapshot", "inspect", "-h"},
                                                                {"snapshot", "verify", "--help"}}) {
    const testutil::CommandResult r = Run(args);
    EXPECT_EQ(kExitOk, r.exit_status);
    EXPECT_NE(std::string::npos, r.output.find("Usage: warmcachectl")) << r.output;
  }
}

}  // namespace
}  // namespace warmcache::ctl
