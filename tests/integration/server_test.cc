// SPDX-License-Identifier: BSD-3-Clause
// The real warmcached binary on an ephemeral loopback port, driven over real sockets.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/testutil/run_command.h"
#include "tests/testutil/server_process.h"
#include "tests/testutil/temp_dir.h"
#include "tests/testutil/test_client.h"

namespace warmcache::testutil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"-p", "-1", "-U", "0", "-l", "127.0.0.1", "-t", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto started = ServerProcess::Start(WC_WARMCACHED_PATH, args);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(*started);
  }
  std::unique_ptr<TestClient> Connect() {
    auto client = TestClient::Connect(server_->port());
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(*client) : nullptr;
  }
  std::string Call(TestClient& c, const std::string& request,
                   const std::string& terminator = "\r\n") {
    auto reply = c.Call(request, terminator);
    EXPECT_TRUE(reply.ok()) << request << ": " << reply.status().ToString();
    return reply.ok() ? *reply : "";
  }
  // Polls `stats` until `name` has `value` or the deadline passes.
  bool WaitForStat(TestClient& c, const std::string& name, const std::string& value,
                   milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      if (Call(c, "stats\r\n", "END\r\n").find("STAT " + name + " " + value + "\r\n") !=
          std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(milliseconds(10));  // between polls, not instead of one
    }
    return false;
  }

  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ServerTest, PipelinedRequestsAnswerInOrder) {
  StartServer();
  auto c = Connect();
  std::string request;
  std::string expected;
  for (int i = 0; i < 500; ++i) {
    const std::string key = "k" + std::to_string(i);
    const std::string value = std::string(i % 50, 'v') + std::to_string(i);
    request += "set " + key + " " + std::to_string(i) + " 0 " + std::to_string(value.size()) +
               "\r\n" + value + "\r\n" + "get " + key + "\r\n";
    expected += "STORED\r\nVALUE " + key + " " + std::to_string(i) + " " +
                std::to_string(value.size()) + "\r\n" + value + "\r\nEND\r\n";
  }
  ASSERT_TRUE(c->Send(request).ok());
  auto reply = c->ReadBytes(expected.size());
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(expected, *reply);
}

TEST_F(ServerTest, CommandSplitIntoSingleBytes) {
  StartServer();
  auto c = Connect();
  const std::string request = "set split 7 0 10\r\n0123456789\r\nget split\r\n";
  for (char byte : request) ASSERT_TRUE(c->Send(std::string(1, byte)).ok());
  EXPECT_EQ("STORED\r\n", *c->ReadLine() + "\r\n");
  EXPECT_EQ("VALUE split 7 10\r\n0123456789\r\nEND\r\n", *c->ReadUntil("END\r\n"));
}

TEST_F(ServerTest, BinaryValuesUpToTheItemLimitAreByteExact) {
  StartServer();
  auto c = Connect();
  std::mt19937 rng(42);
  for (size_t size : {size_t{0}, size_t{1}, size_t{100 * 1024}, size_t{1024 * 1024 - 512}}) {
    std::string value(size, '\0');
    for (char& ch : value) ch = static_cast<char>(rng());
    if (size > 10) value.replace(3, 5, std::string("\r\n\0\r\n", 5));
    const std::string key = "bin" + std::to_string(size);
    EXPECT_EQ("STORED\r\n",
              Call(*c, "set " + key + " 1 0 " + std::to_string(size) + "\r\n" + value + "\r\n"));
    // EXPECT_TRUE, not EXPECT_EQ: a megabyte of random bytes is no use in a failure message.
    EXPECT_TRUE("VALUE " + key + " 1 " + std::to_string(size) + "\r\n" + value + "\r\nEND\r\n" ==
                Call(*c, "get " + key + "\r\n", "\r\nEND\r\n"))
        << "value of " << size << " bytes came back different";
  }
}

TEST_F(ServerTest, TooLargeValueIsDiscardedAndTheOldValueIsGone) {
  StartServer({"-I", "2k"});
  auto c = Connect();
  EXPECT_EQ("STORED\r\n", Call(*c, "set k 0 0 3\r\nold\r\n"));
  const std::string big(5000, 'x');
  EXPECT_EQ("SERVER_ERROR object too large for cache\r\n",
            Call(*c, "set k 0 0 5000\r\n" + big + "\r\n"));
  EXPECT_EQ("END\r\n", Call(*c, "get k\r\n"));
  // The discarded bytes were not read as commands.
  EXPECT_EQ("VERSION 1.6.18\r\n", Call(*c, "version\r\n"));
}

TEST_F(ServerTest, ConnectionsPastTheLimitGetMemcachedsError) {
  StartServer({"-c", "3"});
  std::vector<std::unique_ptr<TestClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(Connect());
    EXPECT_EQ("VERSION 1.6.18\r\n", Call(*held.back(), "version\r\n"));
  }
  auto extra = Connect();
  EXPECT_EQ("ERROR Too many open connections", *extra->ReadLine());
  EXPECT_TRUE(extra->WaitClosedByPeer().ok());
  held.pop_back();  // a slot frees up once the server sees the close
  auto stats = held[0]->Call("stats\r\n", "END\r\n");
  ASSERT_TRUE(stats.ok());
  EXPECT_NE(std::string::npos, stats->find("STAT rejected_connections 1\r\n"));
}

TEST_F(ServerTest, IdleConnectionsAreClosed) {
  StartServer({"-o", "idle_timeout=1"});
  auto idle = Connect();
  EXPECT_EQ("VERSION 1.6.18\r\n", Call(*idle, "version\r\n"));
  EXPECT_TRUE(idle->WaitClosedByPeer(seconds(5)).ok());
}

TEST_F(ServerTest, ExpiredItemsAreReclaimedWithoutBeingRead) {
  StartServer();
  auto c = Connect();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ("STORED\r\n", Call(*c, "set e" + std::to_string(i) + " 0 1 1\r\nx\r\n"));
  }
  EXPECT_TRUE(WaitForStat(*c, "curr_items", "0", seconds(10)));
  EXPECT_TRUE(WaitForStat(*c, "crawler_reclaimed", "20", seconds(5)));
}

TEST_F(ServerTest, BadInputHarmsNoOtherClient) {
  StartServer();
  auto good = Connect();
  EXPECT_EQ("STORED\r\n", Call(*good, "set safe 0 0 4\r\nsafe\r\n"));
  std::mt19937 rng(7);
  std::string garbage(64 * 1024, '\0');
  for (char& ch : garbage) ch = static_cast<char>(rng());
  const std::vector<std::string> attacks = {
      garbage,
      std::string("\x80\x01\x00\x05", 4) + "hello",  // a binary-protocol header
      std::string(1 << 20, 'x'),                     // 1 MB line, no newline
      "set k 0 0 4294967295\r\n",
      "set k 0 0 -1\r\n",
      "set half 0 0 100\r\nabc",  // then vanishes
  };
  for (const std::string& attack : attacks) {
    auto bad = Connect();
    (void)bad->Send(attack);
    bad->ReadAvailable(milliseconds(50));
  }
  EXPECT_EQ("VALUE safe 0 4\r\nsafe\r\nEND\r\n", Call(*good, "get safe\r\n", "END\r\n"));
  EXPECT_EQ("END\r\n", Call(*good, "get half\r\n"));
  EXPECT_TRUE(server_->IsRunning());
}

TEST_F(ServerTest, LongLineWithoutNewlineClosesTheConnection) {
  StartServer();
  auto c = Connect();
  (void)c->Send(std::string(4096, 'x'));
  EXPECT_TRUE(c->WaitClosedByPeer().ok());
}

TEST_F(ServerTest, TwoThousandConnectionsAtOnce) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < 4500) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4500);
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur < 4500) GTEST_SKIP() << "open file limit too low for this test";
  StartServer({"-c", "4096"});
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 2000; ++i) {
    clients.push_back(Connect());
    ASSERT_TRUE(clients.back());
  }
  for (size_t i = 0; i < clients.size(); ++i) {
    ASSERT_TRUE(clients[i]->Send("set c" + std::to_string(i) + " 0 0 1\r\nx\r\n").ok());
  }
  for (auto& c : clients) EXPECT_EQ("STORED", *c->ReadLine());
  EXPECT_TRUE(WaitForStat(*clients[0], "curr_connections", "2000", seconds(5)));
}

TEST_F(ServerTest, SlowReaderDoesNotStallOthersOrGrowMemory) {
  StartServer();
  auto writer = Connect();
  const std::string big(512 * 1024, 'b');
  EXPECT_EQ("STORED\r\n",
            Call(*writer, "set big 0 0 " + std::to_string(big.size()) + "\r\n" + big + "\r\n"));
  // A client that asks for ~1 GB of replies and reads none of them.
  auto slow = Connect();
  std::string gets;
  for (int i = 0; i < 2000; ++i) gets += "get big\r\n";
  (void)slow->Send(gets);
  auto other = Connect();
  EXPECT_EQ("VERSION 1.6.18\r\n", Call(*other, "version\r\n"));
  const std::string reply = Call(*other, "get big\r\n", "\r\nEND\r\n");
  EXPECT_EQ(big.size() + 27, reply.size());  // VALUE line 20, "\r\nEND\r\n" 7
  std::ifstream status("/proc/" + std::to_string(server_->pid()) + "/status");
  std::string line;
  size_t rss_kb = 0;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss_kb = std::stoul(line.substr(6));
  }
  EXPECT_LT(rss_kb, 200u * 1024) << "replies were buffered instead of pausing the reader";
}

TEST_F(ServerTest, ConcurrentClientsOnEveryThread) {
  StartServer({"-t", "4"});
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto client = TestClient::Connect(server_->port());
      if (!client.ok()) {
        failures++;
        return;
      }
      for (int i = 0; i < 300; ++i) {
        const std::string key = "shared" + std::to_string(i % 20);
        const std::string value = std::to_string(t * 1000 + i);
        auto stored = (*client)->Call("set " + key + " 0 0 " + std::to_string(value.size()) +
                                      "\r\n" + value + "\r\n");
        auto got = (*client)->Call("get " + key + "\r\n", "END\r\n");
        auto incr = (*client)->Call("incr counter 1\r\n");
        if (!stored.ok() || *stored != "STORED\r\n" || !got.ok() || !incr.ok()) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(0, failures.load());
}

TEST_F(ServerTest, SigtermExitsZeroAfterAnsweringWhatItRead) {
  StartServer();
  auto c = Connect();
  std::string request;
  for (int i = 0; i < 200; ++i) request += "set s" + std::to_string(i) + " 0 0 1\r\nx\r\n";
  ASSERT_TRUE(c->Send(request).ok());
  EXPECT_EQ("STORED", *c->ReadLine());
  EXPECT_EQ(0, server_->Stop()) << server_->StderrText();
  EXPECT_NE(std::string::npos, server_->StderrText().find("shutdown complete"));
}

TEST_F(ServerTest, ShutdownCommandOnlyWithA) {
  StartServer();
  auto c = Connect();
  EXPECT_EQ("ERROR: shutdown not enabled\r\n", Call(*c, "shutdown\r\n"));
  server_->Stop();
  StartServer({"-A"});
  auto admin = Connect();
  EXPECT_EQ("CLIENT_ERROR invalid shutdown mode\r\n", Call(*admin, "shutdown now\r\n"));
  ASSERT_TRUE(admin->Send("shutdown\r\n").ok());
  EXPECT_TRUE(admin->WaitClosedByPeer().ok());
  const auto until = std::chrono::steady_clock::now() + seconds(10);
  while (server_->IsRunning() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(0, server_->Stop());
}

TEST_F(ServerTest, UnixSocket) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir.ok());
  const std::string path = (*dir)->path() + "/wc.sock";
  // Not the default derived from the socket path under /var/tmp: the temp dir goes away.
  const std::string data_dir = (*dir)->path() + "/data";
  // With -s there is no TCP port to report, so this test starts the child itself.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(WC_WARMCACHED_PATH, WC_WARMCACHED_PATH, "-s", path.c_str(), "-a", "700", "-t", "1",
          "--data-dir", data_dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  const auto until = std::chrono::steady_clock::now() + seconds(10);
  int rc = -1;
  while ((rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))) != 0 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(0, rc);
  const std::string request = "set u 0 0 2\r\nok\r\nget u\r\n";
  std::string reply;
  if (rc == 0 &&
      write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buf[256];
    ssize_t n = 0;
    while (reply.find("END\r\n") == std::string::npos && (n = read(fd, buf, sizeof(buf))) > 0) {
      reply.append(buf, static_cast<size_t>(n));
    }
  }
  EXPECT_EQ("STORED\r\nVALUE u 0 2\r\nok\r\nEND\r\n", reply);
  close(fd);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(ServerTest, ConfigFileAndStatsSettings) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir.ok());
  const std::string conf = (*dir)->path() + "/memcached.conf";
  std::ofstream(conf) << "# Debian style\n-m 32\n-c 77\n-t 2\n-o idle_timeout=600\n";
  StartServer({"--config", conf});
  auto c = Connect();
  const std::string settings = Call(*c, "stats settings\r\n", "END\r\n");
  EXPECT_NE(std::string::npos, settings.find("STAT maxbytes 33554432\r\n"));
  EXPECT_NE(std::string::npos, settings.find("STAT maxconns 77\r\n"));
  EXPECT_NE(std::string::npos, settings.find("STAT idle_timeout 600\r\n"));
}

TEST_F(ServerTest, BadOptionsExitWithUsageCodeAndOneLine) {
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"-I", "512"},
                                              {"-o", "foo"},
                                              {"-t", "0"},
                                              {"-p", "abc"},
                                              {"-B", "nonsense"}}) {
    std::vector<std::string> argv = {WC_WARMCACHED_PATH};
    argv.insert(argv.end(), bad.begin(), bad.end());
    auto result = RunCommand(argv, seconds(10));
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(64, result->exit_status) << bad[0] << ": " << result->output;
    EXPECT_EQ(1, std::count(result->output.begin(), result->output.end(), '\n')) << result->output;
  }
}

TEST_F(ServerTest, MemcachedCommandLinesStartUnchanged) {
  StartServer({"-m", "64", "-c", "1024", "-R", "20", "-b", "1024", "-f", "1.25", "-n", "48", "-L",
               "-o", "slab_chunk_max=512,no_modern,hashpower=16,lru_crawler,modern"});
  auto c = Connect();
  EXPECT_EQ("VERSION 1.6.18\r\n", Call(*c, "version\r\n"));
  EXPECT_NE(std::string::npos, server_->StderrText().find("warning"));
}

TEST_F(ServerTest, RequestsPerEventYieldWithoutReorderingReplies) {
  StartServer({"-R", "2"});
  auto c = Connect();
  std::string request;
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    request += "set y" + std::to_string(i) + " 0 0 1\r\nx\r\nget y" + std::to_string(i) + "\r\n";
    expected += "STORED\r\nVALUE y" + std::to_string(i) + " 0 1\r\nx\r\nEND\r\n";
  }
  ASSERT_TRUE(c->Send(request).ok());
  EXPECT_EQ(expected, *c->ReadBytes(expected.size()));
  const std::string stats = Call(*c, "stats\r\n", "END\r\n");
  EXPECT_EQ(std::string::npos, stats.find("STAT conn_yields 0\r\n")) << "never yielded";
}

TEST_F(ServerTest, DaemonWritesItsPidFile) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir.ok());
  const std::string pid_file = (*dir)->path() + "/warmcached.pid";
  const std::string port_file = (*dir)->path() + "/port";
  auto run = RunCommand({"/usr/bin/env", "MEMCACHED_PORT_FILENAME=" + port_file, WC_WARMCACHED_PATH,
                         "-d", "-P", pid_file, "-p", "-1", "-U", "0", "-l", "127.0.0.1", "-t", "1"},
                        seconds(10));
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(0, run->exit_status) << run->output;  // the parent returns once detached
  pid_t pid = 0;
  const auto until = std::chrono::steady_clock::now() + seconds(10);
  while (pid == 0 && std::chrono::steady_clock::now() < until) {
    std::ifstream(pid_file) >> pid;
    if (pid == 0) std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_GT(pid, 0);
  ASSERT_EQ(0, kill(pid, SIGTERM)) << "the daemon is not running";
  // A clean exit removes the pid file. (The daemon is not our child, so it cannot be waited
  // for, and it may linger as a zombie if nothing reaps orphans here.)
  const auto stop_until = std::chrono::steady_clock::now() + seconds(10);
  while (std::ifstream(pid_file).good() && std::chrono::steady_clock::now() < stop_until) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_FALSE(std::ifstream(pid_file).good()) << "the daemon did not shut down cleanly";
}

TEST_F(ServerTest, CachedumpFeedsMemcdump) {
  StartServer();
  auto c = Connect();
  EXPECT_EQ("STORED\r\n", Call(*c, "set dump:1 0 100 3\r\nabc\r\n"));
  EXPECT_EQ("STORED\r\n", Call(*c, "set dump:2 0 0 1\r\nx\r\n"));
  const std::string dump = Call(*c, "stats cachedump 1 0\r\n", "END\r\n");
  EXPECT_NE(std::string::npos, dump.find("ITEM dump:2 [1 b; 0 s]\r\n")) << dump;
  EXPECT_EQ("CLIENT_ERROR Illegal slab id\r\n", Call(*c, "stats cachedump 64 1\r\n"));
  if (!HaveProgram("memcdump")) GTEST_SKIP() << "memcdump (libmemcached-tools) not installed";
  auto run = RunCommand({"memcdump", "--servers=127.0.0.1:" + std::to_string(server_->port())},
                        seconds(10));
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(0, run->exit_status) << run->output;
  EXPECT_NE(std::string::npos, run->output.find("dump:1")) << run->output;
  EXPECT_NE(std::string::npos, run->output.find("dump:2")) << run->output;
}

TEST_F(ServerTest, StatsConnsAndReset) {
  StartServer();
  auto c = Connect();
  Call(*c, "get nothing\r\n");
  const std::string conns = Call(*c, "stats conns\r\n", "END\r\n");
  EXPECT_NE(std::string::npos, conns.find(":state conn_listening\r\n"));
  EXPECT_NE(std::string::npos, conns.find(":state conn_parse_cmd\r\n"));
  EXPECT_NE(std::string::npos, Call(*c, "stats\r\n", "END\r\n").find("STAT cmd_get 1\r\n"));
  EXPECT_EQ("RESET\r\n", Call(*c, "stats reset\r\n"));
  EXPECT_NE(std::string::npos, Call(*c, "stats\r\n", "END\r\n").find("STAT cmd_get 0\r\n"));
}

}  // namespace
}  // namespace warmcache::testutil
