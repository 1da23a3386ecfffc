// SPDX-License-Identifier: BSD-3-Clause
// Light checks of the test helpers, run against the memcached oracle.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/testutil/escape.h"
#include "tests/testutil/oracle.h"
#include "tests/testutil/run_command.h"
#include "tests/testutil/server_process.h"
#include "tests/testutil/stats.h"
#include "tests/testutil/temp_dir.h"
#include "tests/testutil/test_client.h"

namespace warmcache::testutil {
namespace {

using std::chrono::milliseconds;

TEST(EscapeTest, RoundTripsEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string escaped = EscapeBytes(all);
  EXPECT_EQ(escaped.find('\n'), std::string::npos);
  auto back = UnescapeBytes(escaped);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, all);
  EXPECT_EQ(EscapeBytes("a\r\n\\\x01"), "a\\r\\n\\\\\\x01");
}

TEST(EscapeTest, RejectsBadEscapes) {
  EXPECT_FALSE(UnescapeBytes("\\q").ok());
  EXPECT_FALSE(UnescapeBytes("abc\\").ok());
  EXPECT_FALSE(UnescapeBytes("\\x4").ok());
}

TEST(TempDirTest, CreatesAndRemoves) {
  std::string path;
  {
    auto dir = TempDir::Create();
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    path = (*dir)->path();
    EXPECT_TRUE(std::filesystem::is_directory(path));
    std::filesystem::create_directories((*dir)->File("a/b"));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(0u, TotalFileBytes(path));
}

TEST(TempDirTest, TotalFileBytes) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  std::filesystem::create_directories((*dir)->File("sub"));
  std::ofstream((*dir)->File("a")) << "12345";
  std::ofstream((*dir)->File("sub/b")) << "123";
  EXPECT_EQ(8u, TotalFileBytes((*dir)->path()));
}

class OracleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto oracle = FindOracle();
    if (!oracle) GTEST_SKIP() << "memcached (the oracle) is not installed";
    cmd_ = *oracle;
  }
  // memcached needs about a second to exit on SIGTERM; tests that do not check a clean
  // exit leave their servers to TearDown, which kills them, to keep this binary fast.
  void TearDown() override {
    for (auto& server : servers_) server->Kill9();
  }
  ServerProcess* StartOracle(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = cmd_.args;
    for (auto& a : EphemeralPortArgs()) args.push_back(a);
    for (auto& a : extra) args.push_back(a);
    auto server = ServerProcess::Start(cmd_.binary, args);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (!server.ok()) return nullptr;
    servers_.push_back(std::move(server).value());
    return servers_.back().get();
  }
  ServerCommand cmd_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
};

TEST_F(OracleTest, StartTalkStop) {
  auto server = StartOracle();
  ASSERT_NE(server, nullptr);
  EXPECT_NE(server->port(), 0);
  EXPECT_GT(server->pid(), 0);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto line = (*client)->Call("version\r\n");
  ASSERT_TRUE(line.ok()) << line.status().ToString();
  EXPECT_EQ(*line, "VERSION 1.6.18\r\n");
  ASSERT_TRUE((*client)->Send("set k 0 0 5\r\nhello\r\nget k\r\n").ok());
  EXPECT_EQ((*client)->ReadLine().value(), "STORED");
  EXPECT_EQ((*client)->ReadBytes(13).value(), "VALUE k 0 5\r\n");
  EXPECT_EQ((*client)->ReadUntil("END\r\n").value(), "hello\r\nEND\r\n");
  EXPECT_EQ((*client)->ReadAvailable(milliseconds(20)), "");
  EXPECT_TRUE(server->IsRunning());
  EXPECT_EQ(server->Stop(), 0);
  EXPECT_FALSE(server->IsRunning());
  EXPECT_EQ(server->Stop(), 0);  // idempotent
}

TEST_F(OracleTest, ReadTimesOutQuietly) {
  auto server = StartOracle();
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client.ok());
  (*client)->set_timeout(milliseconds(50));
  ASSERT_TRUE((*client)->Send("get nothing\r\n").ok());
  auto line = (*client)->ReadUntil("VALUE");  // END arrives, VALUE never does
  ASSERT_FALSE(line.ok());
  EXPECT_NE(line.status().message().find("timed out"), std::string::npos);
  EXPECT_NE(line.status().message().find("END\\r\\n"), std::string::npos)
      << line.status().message();
}

TEST_F(OracleTest, QuitClosesConnection) {
  auto server = StartOracle();
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Send("quit\r\n").ok());
  EXPECT_TRUE((*client)->WaitClosedByPeer().ok());
  EXPECT_TRUE((*client)->peer_closed());
  EXPECT_FALSE((*client)->ReadLine().ok());
}

TEST_F(OracleTest, WaitClosedReportsUnexpectedBytes) {
  auto server = StartOracle();
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Send("version\r\n").ok());
  Status s = (*client)->WaitClosedByPeer(milliseconds(500));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("VERSION"), std::string::npos) << s.message();
}

TEST_F(OracleTest, CapturesStderr) {
  auto server = StartOracle({"-vv"});
  ASSERT_NE(server, nullptr);
  {
    auto client = TestClient::Connect(server->port());
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE((*client)->Call("version\r\n").ok());
  }
  EXPECT_EQ(server->Stop(), 0);
  EXPECT_NE(server->StderrText().find("version"), std::string::npos) << server->StderrText();
}

TEST_F(OracleTest, FailsFastWhenServerExits) {
  std::vector<std::string> args = cmd_.args;
  args.push_back("--no-such-flag");
  auto start = std::chrono::steady_clock::now();
  auto server = ServerProcess::Start(cmd_.binary, args);
  EXPECT_FALSE(server.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_NE(server.status().message().find("exited"), std::string::npos)
      << server.status().message();
}

TEST_F(OracleTest, StartOnPortWaitsForAccept) {
  auto port = PickFreePort();
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  std::vector<std::string> args = cmd_.args;
  args.insert(args.end(), {"-p", std::to_string(*port), "-U", "0", "-l", "127.0.0.1"});
  auto server = ServerProcess::StartOnPort(cmd_.binary, args, *port);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  servers_.push_back(std::move(server).value());
  EXPECT_EQ(*port, servers_.back()->port());
  auto client = TestClient::Connect(*port);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ("VERSION 1.6.18\r\n", (*client)->Call("version\r\n").value());
  // A second server on the same port cannot bind: it exits, and that is reported at once.
  auto second = ServerProcess::StartOnPort(cmd_.binary, args, *port);
  EXPECT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("exited"), std::string::npos)
      << second.status().message();
}

TEST_F(OracleTest, Kill9) {
  auto server = StartOracle();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->Kill9(), -SIGKILL);
  EXPECT_EQ(DescribeExitStatus(-SIGKILL).rfind("killed by signal 9", 0), 0u);
}

TEST(StatsTest, ParsesRepliesAndIntegers) {
  auto stats = ParseStats(
      "STAT pid 42\r\nSTAT version 1.6.18\r\nSTAT rusage_user 0.1\r\n"
      "STAT neg -3\r\nSTAT spaced a b\r\nEND\r\n");
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(5u, stats->size());
  EXPECT_EQ(42, StatInt(*stats, "pid"));
  EXPECT_EQ(-3, StatInt(*stats, "neg"));
  EXPECT_EQ(std::nullopt, StatInt(*stats, "rusage_user"));
  EXPECT_EQ(std::nullopt, StatInt(*stats, "absent"));
  EXPECT_EQ("a b", stats->at("spaced"));
  EXPECT_TRUE(ParseStats("END\r\n").ok());
  EXPECT_FALSE(ParseStats("STAT pid 42\r\n").ok());          // no END
  EXPECT_FALSE(ParseStats("STAT pid 42\r\nEND\r\nX").ok());  // bytes after END
  EXPECT_FALSE(ParseStats("VALUE k 0 1\r\nx\r\nEND\r\n").ok());
}

TEST_F(OracleTest, ReadsAndWaitsForStats) {
  auto server = StartOracle();
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client.ok());
  auto stats = ReadStats(**client);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(server->pid(), StatInt(*stats, "pid"));
  auto settings = ReadStats(**client, "settings");
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_TRUE(settings->contains("maxbytes"));
  ASSERT_TRUE((*client)->Call("set k 0 0 1\r\nx\r\n").ok());
  auto one = WaitForStats(
      **client, [](const StatMap& s) { return StatInt(s, "curr_items") == 1; }, milliseconds(2000));
  EXPECT_TRUE(one.ok()) << one.status().ToString();
  auto never = WaitForStats(
      **client, [](const StatMap& s) { return StatInt(s, "curr_items") == 2; }, milliseconds(50),
      "curr_items");
  ASSERT_FALSE(never.ok());
  EXPECT_NE(never.status().message().find("curr_items = 1"), std::string::npos)
      << never.status().message();
}

TEST(RunCommandTest, CapturesOutputAndStatus) {
  auto r = RunCommand({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, std::chrono::seconds(5));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_status, 3);
  EXPECT_EQ(r->output, "out\nerr\n");
  auto slow = RunCommand({"/bin/sh", "-c", "exec sleep 5"}, milliseconds(50));
  ASSERT_TRUE(slow.ok());
  EXPECT_EQ(slow->exit_status, -SIGKILL);
  EXPECT_TRUE(HaveProgram("sh"));
  EXPECT_FALSE(HaveProgram("no-such-program-wc"));
}

TEST(ServerProcessTest, RejectsMissingBinary) {
  auto server = ServerProcess::Start("/nonexistent/warmcached", {});
  EXPECT_FALSE(server.ok());
}

}  // namespace
}  // namespace warmcache::testutil
