// SPDX-License-Identifier: BSD-3-Clause
// `warmcachectl ring`: the built binary prints, per key, the server Ring::Owner picks and the
// one Debian's libmemcached picks (weighted ketama, md5) for the same servers.
#include <gtest/gtest.h>
#include <libmemcached/memcached.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "server/ring/pool_config.h"
#include "tests/testutil/run_command.h"
#include "tests/testutil/temp_dir.h"
#include "tools/ctl/ctl_args.h"

namespace warmcache::ctl {
namespace {

constexpr const char* kPool = R"(cache:
  listen: 127.0.0.1:22121
  hash: md5
  distribution: ketama
  backlog: 128
  servers:
   - 10.0.0.1:11211:1
   - 10.0.0.2:11212:3
   - cache-3.example.net:11211:2
   - 10.0.0.4:11300:1
)";

class RingCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testutil::TempDir::Create("wc_ctl_ring_");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(dir).value();
    pool_path_ = dir_->File("pool.yml");
    std::ofstream(pool_path_) << kPool;
  }

  // Runs warmcachectl with `args`; `stream` is "out" (stdout only) or "err" (stderr only).
  static testutil::CommandResult Run(const std::vector<std::string>& args,
                                     const std::string& stream = "out") {
    const std::string redirect = stream == "out" ? "2>/dev/null" : "2>&1 >/dev/null";
    std::vector<std::string> sh = {"/bin/sh", "-c", "\"$0\" \"$@\" " + redirect,
                                   WC_WARMCACHECTL_PATH};
    sh.insert(sh.end(), args.begin(), args.end());
    auto result = testutil::RunCommand(sh, std::chrono::seconds(20));
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : testutil::CommandResult{-1, ""};
  }

  std::unique_ptr<testutil::TempDir> dir_;
  std::string pool_path_;
};

TEST_F(RingCommandTest, PrintsTheOwnerOfEachKeyAsRingAndLibmemcachedDo) {
  const std::vector<std::string> keys = {"user:1", "user:2",         "session:abc", "a",
                                         "z:{9}",  "product:123456", "k",           "cart:77"};
  std::vector<std::string> args = {"ring", "--pool", pool_path_};
  args.insert(args.end(), keys.begin(), keys.end());
  const testutil::CommandResult r = Run(args);
  ASSERT_EQ(kExitOk, r.exit_status) << r.output;

  Result<ring::PoolConfig> pool = ring::ParsePoolConfig(kPool);
  ASSERT_TRUE(pool.ok());
  const ring::Ring ring = ring::BuildRing(*pool);
  memcached_st* memc = memcached_create(nullptr);
  memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
  for (const ring::Node& node : pool->servers) {
    memcached_server_add_with_weight(memc, node.host.c_str(), node.port, node.weight);
  }
  std::string expected;
  for (const std::string& key : keys) {
    const uint32_t index = memcached_generate_hash(memc, key.data(), key.size());
    EXPECT_EQ(static_cast<uint32_t>(ring.Owner(key)), index) << key;
    expected += key + " " + pool->servers[index].Address() + "\n";
  }
  memcached_free(memc);
  EXPECT_EQ(expected, r.output);
  std::set<std::string> servers;
  std::istringstream lines(r.output);
  for (std::string key, server; lines >> key >> server;) servers.insert(server);
  EXPECT_GT(servers.size(), 1u) << "all keys on one server: a weak check";
}

TEST_F(RingCommandTest, WarningsGoToStderr) {
  const testutil::CommandResult r = Run({"ring", "--pool=" + pool_path_, "k"}, "err");
  EXPECT_EQ(kExitOk, r.exit_status);
  EXPECT_EQ(
      "warmcachectl: warning: pool 'cache': backlog: ignored; warmcached's own backlog setting "
      "(-b) applies\n",
      r.output);
}

TEST_F(RingCommandTest, PicksAPoolByName) {
  std::ofstream(pool_path_, std::ios::app) << "other:\n  servers:\n   - 10.9.9.9:5000:1\n";
  EXPECT_EQ("k 10.9.9.9:5000\n",
            Run({"ring", "--pool", pool_path_, "--pool-name", "other", "k"}).output);
  const testutil::CommandResult r = Run({"ring", "--pool", pool_path_, "k"}, "err");
  EXPECT_EQ(kExitFailure, r.exit_status);
  EXPECT_EQ("warmcachectl: " + pool_path_ +
                ": the file defines 2 pools (cache, other); name the one to use\n",
            r.output);
}

TEST_F(RingCommandTest, ABadPoolFileIsOneLineAndExitOne) {
  std::ofstream(pool_path_) << "cache:\n  distribution: random\n  servers:\n   - h:11211:1\n";
  testutil::CommandResult r = Run({"ring", "--pool", pool_path_, "k"}, "err");
  EXPECT_EQ(kExitFailure, r.exit_status);
  EXPECT_EQ(1, std::count(r.output.begin(), r.output.end(), '\n')) << r.output;
  EXPECT_EQ(0u, r.output.find("warmcachectl: " + pool_path_ + ": pool 'cache': distribution: "))
      << r.output;
  r = Run({"ring", "--pool", dir_->File("missing.yml"), "k"}, "err");
  EXPECT_EQ(kExitFailure, r.exit_status);
  EXPECT_EQ(
      "warmcachectl: " + dir_->File("missing.yml") + ": cannot read: No such file or directory\n",
      r.output);
}

TEST_F(RingCommandTest, UsageErrorsExit64AndHelpExitsZero) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"ring"},
                                             {"ring", "k"},
                                             {"ring", "--pool", pool_path_},
                                             {"ring", "--pool"},
                                             {"ring", "--pool="},
                                             {"ring", "--pool", pool_path_, "--pool-name"},
                                             {"ring", "--frobnicate", "--pool", pool_path_, "k"}}) {
    EXPECT_EQ(kExitUsage, Run(args).exit_status) << args.size();
  }
  const testutil::CommandResult help = Run({"ring", "--help"});
  EXPECT_EQ(kExitOk, help.exit_status);
  EXPECT_EQ(0u, help.output.find("Usage: warmcachectl ring --pool FILE")) << help.output;
  // "--" lets a key start with a dash.
  EXPECT_EQ(kExitOk, Run({"ring", "--pool", pool_path_, "--", "-k"}).exit_status);
}

}  // namespace
}  // namespace warmcache::ctl
