// SPDX-License-Identifier: BSD-3-Clause
// Runs Debian's memccapable (libmemcached-tools) ASCII and binary protocol checks against
// warmcached, and against memcached to show what passing looks like. Skipped if memccapable is
// not installed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/testutil/oracle.h"
#include "tests/testutil/run_command.h"
#include "tests/testutil/server_process.h"

#ifndef WC_WARMCACHED_PATH
#error "WC_WARMCACHED_PATH must name the warmcached binary"
#endif

namespace warmcache {
namespace {

using testutil::RunCommand;
using testutil::ServerProcess;

constexpr char kMemccapable[] = "/usr/bin/memccapable";

// Starts `binary` on an ephemeral port, runs "memccapable -a" (ascii) or "-b" (binary)
// against it, and checks that every test passed.
void RunMemccapable(const std::string& binary, std::vector<std::string> args,
                    const char* mode = "-a") {
  if (!testutil::HaveProgram(kMemccapable)) {
    GTEST_SKIP() << kMemccapable << " is not installed (Debian package libmemcached-tools)";
  }
  for (const auto& a : testutil::EphemeralPortArgs()) args.push_back(a);
  auto server = ServerProcess::Start(binary, args);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto run = RunCommand(
      {kMemccapable, mode, "-t", "5", "-h", "127.0.0.1", "-p", std::to_string((*server)->port())},
      std::chrono::seconds(60));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->exit_status, 0) << run->output;
  EXPECT_NE(run->output.find("All tests passed"), std::string::npos) << run->output;
  EXPECT_EQ(run->output.find("[FAIL]"), std::string::npos) << run->output;
  // 27 tests per protocol in libmemcached-tools 1.1: a silent drop in count would hide a skip.
  size_t passes = 0;
  for (size_t pos = 0; (pos = run->output.find("[pass]", pos)) != std::string::npos; ++pos) {
    ++passes;
  }
  EXPECT_GE(passes, 27u) << run->output;
  EXPECT_TRUE((*server)->IsRunning()) << "server died; stderr:\n" << (*server)->StderrText();
}

TEST(MemccapableTest, MemcachedOraclePasses) {
  auto oracle = testutil::FindOracle();
  if (!oracle) GTEST_SKIP() << "memcached (the oracle) is not installed";
  RunMemccapable(oracle->binary, oracle->args);
}

TEST(MemccapableTest, WarmcachedPasses) {
  std::vector<std::string> args;
  if (geteuid() == 0) args = {"-u", "root"};
  RunMemccapable(WC_WARMCACHED_PATH, args);
}

TEST(MemccapableTest, MemcachedOraclePassesBinary) {
  auto oracle = testutil::FindOracle();
  if (!oracle) GTEST_SKIP() << "memcached (the oracle) is not installed";
  RunMemccapable(oracle->binary, oracle->args, "-b");
}

TEST(MemccapableTest, WarmcachedPassesBinary) { RunMemccapable(WC_WARMCACHED_PATH, {}, "-b"); }

}  // namespace
}  // namespace warmcache
