// SPDX-License-Identifier: BSD-3-Clause
// Runs every transcript in cases/ against both memcached (the oracle) and warmcached, each on
// a freshly started server. Test names: Conformance/memcached.<case>,
// Conformance/warmcached.<case>.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/conformance/transcript.h"
#include "tests/conformance/transcript_runner.h"
#include "tests/testutil/oracle.h"
#include "tests/testutil/server_process.h"

#ifndef WC_CONFORMANCE_CASES_DIR
#error "WC_CONFORMANCE_CASES_DIR must name the cases/ folder"
#endif
#ifndef WC_WARMCACHED_PATH
#define WC_WARMCACHED_PATH ""
#endif

namespace warmcache::conformance {
namespace {

enum class ServerKind { kMemcached, kWarmcached };

const char* KindName(ServerKind kind) {
  return kind == ServerKind::kMemcached ? "memcached" : "warmcached";
}

std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return (value != nullptr && value[0] != '\0') ? value : fallback;
}

class CaseTest : public ::testing::Test {
 public:
  CaseTest(ServerKind kind, Result<Transcript> transcript)
      : kind_(kind), transcript_(std::move(transcript)) {}

  void TestBody() override {
    ASSERT_TRUE(transcript_.ok()) << transcript_.status().ToString();
    testutil::ServerCommand cmd;
    ASSERT_NO_FATAL_FAILURE(FindServer(&cmd));
    if (IsSkipped()) return;
    for (const auto& a : testutil::EphemeralPortArgs()) cmd.args.push_back(a);
    for (const auto& a : transcript_->extra_args) cmd.args.push_back(a);
    auto server = testutil::ServerProcess::Start(cmd.binary, cmd.args);
    ASSERT_TRUE(server.ok()) << server.status().ToString();

    Status result = RunTranscript(*transcript_, (*server)->port());
    EXPECT_TRUE(result.ok()) << result.message();
    bool alive = (*server)->IsRunning();
    EXPECT_TRUE(alive) << KindName(kind_) << " died during the case: "
                       << testutil::DescribeExitStatus((*server)->Stop()) << "\nstderr:\n"
                       << (*server)->StderrText();
    if (!alive) return;
    if (kind_ == ServerKind::kMemcached) {
      // memcached takes about a second to exit on SIGTERM; its shutdown is not under test.
      (*server)->Kill9();
    } else {
      int status = (*server)->Stop(std::chrono::seconds(5));
      EXPECT_EQ(status, 0) << "warmcached did not exit cleanly on SIGTERM: "
                           << testutil::DescribeExitStatus(status) << "\nstderr:\n"
                           << (*server)->StderrText();
    }
  }

 private:
  void FindServer(testutil::ServerCommand* cmd) {
    if (kind_ == ServerKind::kMemcached) {
      auto oracle = testutil::FindOracle();
      if (!oracle) GTEST_SKIP() << "memcached (the oracle) is not installed";
      *cmd = *oracle;
      return;
    }
    if (!transcript_->known_difference.empty()) {
      GTEST_SKIP() << "known difference (see KNOWN_DIFFERENCES.md): "
                   << transcript_->known_difference;
    }
    cmd->binary = EnvOr("WC_WARMCACHED", WC_WARMCACHED_PATH);
    if (cmd->binary.empty()) GTEST_SKIP() << "warmcached is not part of this build yet";
    ASSERT_TRUE(std::filesystem::exists(cmd->binary)) << "missing " << cmd->binary;
    if (geteuid() == 0) cmd->args = {"-u", "root"};
  }

  ServerKind kind_;
  Result<Transcript> transcript_;
};

void RegisterCases() {
  std::string dir = EnvOr("WC_CONFORMANCE_CASES_DIR", WC_CONFORMANCE_CASES_DIR);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::string name = file.stem().string();
    Result<Transcript> transcript = LoadTranscript(file.string());
    if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
      transcript = Status::InvalidArgument(file.string() + ": case names use [a-z0-9_] only");
      name = "bad_name";
    }
    for (ServerKind kind : {ServerKind::kMemcached, ServerKind::kWarmcached}) {
      std::string suite = std::string("Conformance/") + KindName(kind);
      ::testing::RegisterTest(
          suite.c_str(), name.c_str(), nullptr, nullptr, file.string().c_str(), 1,
          [kind, transcript]() -> ::testing::Test* { return new CaseTest(kind, transcript); });
    }
  }
}

}  // namespace
}  // namespace warmcache::conformance

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  warmcache::conformance::RegisterCases();
  return RUN_ALL_TESTS();
}
