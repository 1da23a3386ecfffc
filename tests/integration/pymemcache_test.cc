// SPDX-License-Identifier: BSD-3-Clause
// Drives warmcached with the pymemcache client (Debian's python3-pymemcache, through
// /usr/bin/python3) and compares what the client sees with the same script run against
// memcached. Skipped if /usr/bin/python3 or pymemcache is missing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/testutil/oracle.h"
#include "tests/testutil/run_command.h"
#include "tests/testutil/server_process.h"
#include "tests/testutil/temp_dir.h"

#ifndef WC_WARMCACHED_PATH
#error "WC_WARMCACHED_PATH must name the warmcached binary"
#endif

namespace warmcache {
namespace {

// Debian's python3-pymemcache is installed for the system interpreter only.
constexpr char kPython[] = "/usr/bin/python3";

// Prints one line per operation result, then "stat NAME TYPE" for every stat pymemcache
// returns (values differ between servers and runs; names and parsed types should not).
constexpr char kScript[] = R"PY(
import sys
from pymemcache.client import base
client = base.Client((sys.argv[1], int(sys.argv[2])), connect_timeout=5, timeout=5)
print("set", client.set("key", "value", expire=3600))
print("get", client.get("key"))
print("delete", client.delete("key"))
print("get_after_delete", client.get("key"))
print("delete_missing", client.delete("key", noreply=False))
stats = client.stats()
for name in sorted(stats):
    key = name.decode() if isinstance(name, bytes) else name
    print("stat", key, type(stats[name]).__name__)
client.close()
)PY";

struct ScriptOutput {
  std::vector<std::string> op_lines;  // "set True", ...
  std::set<std::string> stat_lines;   // "stat NAME TYPE"
};

void RunScript(const std::string& binary, std::vector<std::string> args, ScriptOutput* out) {
  auto dir = testutil::TempDir::Create();
  ASSERT_TRUE(dir.ok());
  std::string script = (*dir)->File("client.py");
  {
    FILE* f = fopen(script.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs(kScript, f);
    fclose(f);
  }
  for (const auto& a : testutil::EphemeralPortArgs()) args.push_back(a);
  auto server = testutil::ServerProcess::Start(binary, args);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto run = testutil::RunCommand({kPython, script, "localhost", std::to_string((*server)->port())},
                                  std::chrono::seconds(30));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->exit_status, 0) << binary << ":\n" << run->output;
  std::istringstream lines(run->output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("stat ", 0) == 0) {
      out->stat_lines.insert(line);
    } else {
      out->op_lines.push_back(line);
    }
  }
}

class PymemcacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is not installed";
    auto probe =
        testutil::RunCommand({kPython, "-c", "import pymemcache"}, std::chrono::seconds(30));
    if (!probe.ok() || probe->exit_status != 0) {
      GTEST_SKIP() << "pymemcache is not importable by " << kPython
                   << " (Debian package python3-pymemcache)";
    }
  }
};

TEST_F(PymemcacheTest, WarmcachedMatchesMemcached) {
  ScriptOutput warm;
  std::vector<std::string> warm_args;
  if (geteuid() == 0) warm_args = {"-u", "root"};
  ASSERT_NO_FATAL_FAILURE(RunScript(WC_WARMCACHED_PATH, warm_args, &warm));
  EXPECT_EQ(warm.op_lines,
            (std::vector<std::string>{"set True", "get b'value'", "delete True",
                                      "get_after_delete None", "delete_missing False"}));
  EXPECT_FALSE(warm.stat_lines.empty());

  auto oracle = testutil::FindOracle();
  if (!oracle)
    GTEST_SKIP() << "memcached (the oracle) is not installed; compared with literals only";
  ScriptOutput mc;
  ASSERT_NO_FATAL_FAILURE(RunScript(oracle->binary, oracle->args, &mc));
  EXPECT_EQ(warm.op_lines, mc.op_lines);
  // Every stat memcached reports must be there, parsed to the same type; extra stats are fine.
  for (const auto& line : mc.stat_lines) {
    EXPECT_TRUE(warm.stat_lines.count(line)) << "warmcached lacks or retypes: " << line;
  }
}

}  // namespace
}  // namespace warmcache
