// SPDX-License-Identifier: BSD-3-Clause
// Real third-party clients (Debian packages) run the same scenario against memcached and
// warmcached; their outputs must be identical. Scripts live in tests/integration/clients/.
#include <gtest/gtest.h>

#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "tests/testutil/oracle.h"
#include "tests/testutil/run_command.h"
#include "tests/testutil/server_process.h"
#include "tests/testutil/temp_dir.h"

namespace warmcache::testutil {
namespace {

using std::chrono::seconds;

struct ClientCase {
  const char* name;
  std::vector<std::string> command;  // the port is appended, then `extra`
  std::vector<std::string> extra;
  const char* needs;  // a program that must exist
};

// Names the case in test output (instead of gtest's byte dump of the struct).
void PrintTo(const ClientCase& c, std::ostream* os) { *os << c.name; }

std::string ScriptPath(const std::string& file) { return std::string(WC_CLIENTS_DIR) + "/" + file; }

// Runs the client against a fresh server; returns its output.
std::string RunAgainst(const std::string& binary, std::vector<std::string> server_args,
                       const ClientCase& client) {
  std::vector<std::string> args = {"-p", "-1", "-U", "0", "-l", "127.0.0.1", "-t", "2", "-I", "2m"};
  args.insert(args.begin(), server_args.begin(), server_args.end());
  auto server = ServerProcess::Start(binary, args);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  if (!server.ok()) return "";
  std::vector<std::string> argv = client.command;
  argv.push_back(std::to_string((*server)->port()));
  argv.insert(argv.end(), client.extra.begin(), client.extra.end());
  auto run = RunCommand(argv, seconds(60));
  EXPECT_TRUE(run.ok());
  if (!run.ok()) return "";
  EXPECT_EQ(0, run->exit_status) << run->output;
  return run->output;
}

class ClientsTest : public ::testing::TestWithParam<ClientCase> {};

TEST_P(ClientsTest, SameResultsAsMemcached) {
  const ClientCase& client = GetParam();
  if (!HaveProgram(client.needs)) GTEST_SKIP() << client.needs << " is not installed";
  const std::string ours = RunAgainst(WC_WARMCACHED_PATH, {}, client);
  // Values of 0 B, 1 B, 100 KB and 1 MB, binary with CR LF and NUL inside, all byte-exact.
  for (const char* size : {"empty", "one", "k100", "m1"}) {
    EXPECT_NE(std::string::npos, ours.find(std::string("get ") + size + " ")) << ours;
  }
  EXPECT_EQ(std::string::npos, ours.find("get m1 False")) << ours;
  EXPECT_EQ(std::string::npos, ours.find("get m1 false")) << ours;
  EXPECT_EQ(std::string::npos, ours.find("get m1 0")) << ours;
  auto oracle = FindOracle();
  if (!oracle) GTEST_SKIP() << "memcached is not installed; warmcached output:\n" << ours;
  const std::string theirs = RunAgainst(oracle->binary, oracle->args, client);
  EXPECT_EQ(theirs, ours);
}

INSTANTIATE_TEST_SUITE_P(
    AllClients, ClientsTest,
    ::testing::Values(
        ClientCase{"python_memcached",
                   {"/usr/bin/python3", ScriptPath("python_memcache.py")},
                   {},
                   "/usr/bin/python3"},
        ClientCase{"php_memcached_text", {"php", ScriptPath("php_memcached.php")}, {"text"}, "php"},
        ClientCase{"perl_cache_memcached_fast", {"perl", ScriptPath("perl_fast.pl")}, {}, "perl"},
        ClientCase{
            "php_memcached_binary", {"php", ScriptPath("php_memcached.php")}, {"binary"}, "php"}),
    [](const ::testing::TestParamInfo<ClientCase>& info) { return std::string(info.param.name); });

// libmemcached-tools: copy a file in, read it back, list stats, delete, flush.
TEST(LibmemcachedToolsTest, CopyCatRemoveStatFlush) {
  if (!HaveProgram("memccp")) GTEST_SKIP() << "libmemcached-tools is not installed";
  auto server = ServerProcess::Start(
      WC_WARMCACHED_PATH, {"-p", "-1", "-U", "0", "-l", "127.0.0.1", "-t", "2", "-I", "2m"});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string servers = "--servers=127.0.0.1:" + std::to_string((*server)->port());
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir.ok());
  const std::string file = (*dir)->path() + "/payload.bin";
  std::string payload;
  for (int i = 0; i < 300000; ++i) payload.push_back(static_cast<char>(i * 7));
  std::ofstream(file, std::ios::binary) << payload;

  auto cp = RunCommand({"memccp", servers, file}, seconds(30));
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(0, cp->exit_status) << cp->output;
  auto cat = RunCommand({"memccat", servers, "payload.bin"}, seconds(30));
  ASSERT_TRUE(cat.ok());
  EXPECT_EQ(0, cat->exit_status);
  // memccat ends its output with a newline of its own.
  EXPECT_TRUE(cat->output == payload + "\n")
      << "memccat returned " << cat->output.size() << " bytes";
  auto stat = RunCommand({"memcstat", servers}, seconds(30));
  ASSERT_TRUE(stat.ok());
  EXPECT_NE(std::string::npos, stat->output.find("curr_items: 1")) << stat->output;
  auto rm = RunCommand({"memcrm", servers, "payload.bin"}, seconds(30));
  ASSERT_TRUE(rm.ok());
  EXPECT_EQ(0, rm->exit_status) << rm->output;
  auto gone = RunCommand({"memccat", servers, "payload.bin"}, seconds(30));
  ASSERT_TRUE(gone.ok());
  EXPECT_NE(0, gone->exit_status);
  auto flush = RunCommand({"memcflush", servers}, seconds(30));
  ASSERT_TRUE(flush.ok());
  EXPECT_EQ(0, flush->exit_status) << flush->output;
  auto slap =
      RunCommand({"memcslap", servers, "--concurrency=4", "--execute-number=2000"}, seconds(60));
  ASSERT_TRUE(slap.ok());
  EXPECT_EQ(0, slap->exit_status) << slap->output;
}

}  // namespace
}  // namespace warmcache::testutil
