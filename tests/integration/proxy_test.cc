// SPDX-License-Identifier: BSD-3-Clause
// Issue #6, proxy mode end to end: `warmcached --proxy --pool FILE` in front of three real
// warmcached nodes (and, for faults, fake backends that stay silent or die mid-reply). Every
// key must land on the node the ring names, replies come back in request order, a dead node is
// ejected and comes back, and a reload keeps client connections.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/ring/pool_config.h"
#include "server/ring/ring.h"
#include "tests/testutil/expect_calls.h"
#include "tests/testutil/run_command.h"
#include "tests/testutil/server_process.h"
#include "tests/testutil/stats.h"
#include "tests/testutil/temp_dir.h"
#include "tests/testutil/test_client.h"

namespace warmcache::testutil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

constexpr milliseconds kPollEvery = milliseconds(20);
constexpr milliseconds kDeadline = seconds(20);

std::vector<std::string> NodeArgs(int port = -1) {
  return {"--persistence=off",  "-t", "1", "-m", "16",       "-p",
          std::to_string(port), "-U", "0", "-l", "127.0.0.1"};
}

// A TCP listener on 127.0.0.1 that accepts connections and reads requests, and then either
// never answers or answers with a broken reply and closes: what a hung or dying node does.
class FakeBackend {
 public:
  enum class Mode { kSilent, kDieMidReply };
  explicit FakeBackend(Mode mode) : mode_(mode) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd_, 16) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "fake backend: cannot listen";
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeBackend() {
    stop_ = true;
    thread_.join();
    for (int fd : clients_) close(fd);
    close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      const int client = accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      if (mode_ == Mode::kSilent) {
        clients_.push_back(client);  // kept open, never answered
        continue;
      }
      char buf[4096];
      pollfd c{client, POLLIN, 0};
      if (poll(&c, 1, 5000) > 0 && recv(client, buf, sizeof(buf), 0) > 0) {
        const std::string_view partial = "VALUE k 0 10\r\nabc";
        (void)!send(client, partial.data(), partial.size(), MSG_NOSIGNAL);
      }
      close(client);
    }
  }
  const Mode mode_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> clients_;  // Serve's thread only
  std::thread thread_;
};

// SIGSTOP takes effect asynchronously: polls /proc until every thread of `pid` is stopped.
bool StopProcess(pid_t pid) {
  if (kill(pid, SIGSTOP) != 0) return false;
  const auto until = SteadyClock::now() + kDeadline;
  while (SteadyClock::now() < until) {
    bool all_stopped = true;
    for (const auto& task :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
      std::ifstream stat(task.path() / "stat");
      std::string line;
      std::getline(stat, line);
      const size_t paren = line.rfind(')');
      if (paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'T') {
        all_stopped = false;
      }
    }
    if (all_stopped) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return false;
}

// The first `count` keys "<prefix><n>" that `ring` gives to `node`.
std::vector<std::string> KeysOwnedBy(const ring::Ring& ring, int node, const std::string& prefix,
                                     size_t count) {
  std::vector<std::string> keys;
  for (int i = 0; keys.size() < count; ++i) {
    if (ring.Owner(prefix + std::to_string(i)) == node) keys.push_back(prefix + std::to_string(i));
  }
  return keys;
}

// Runs `step` every kPollEvery until it returns true or kDeadline passes; true if it did.
bool PollUntil(const std::function<bool()>& step) {
  const auto until = SteadyClock::now() + kDeadline;
  while (SteadyClock::now() < until) {
    if (step()) return true;
    std::this_thread::sleep_for(kPollEvery);
  }
  return false;
}

class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("wc_proxy_");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(dir).value();
  }

  void StartNodes(int count) {
    for (int i = 0; i < count; ++i) {
      auto node = ServerProcess::Start(WC_WARMCACHED_PATH, NodeArgs());
      ASSERT_TRUE(node.ok()) << node.status().ToString();
      ports_.push_back((*node)->port());
      nodes_.push_back(std::move(node).value());
    }
  }

  // A twemproxy pool file over `ports_` (weights 1, 2, 3, ...), `extra` appended as is.
  std::string WritePool(const std::string& extra, const std::string& name = "pool.yml") {
    std::string yaml = "alpha:\n  listen: 127.0.0.1:22121\n  hash: md5\n  distribution: ketama\n";
    yaml += extra;
    yaml += "  servers:\n";
    for (size_t i = 0; i < ports_.size(); ++i) {
      yaml += "   - 127.0.0.1:" + std::to_string(ports_[i]) + ":" + std::to_string(i + 1) + "\n";
    }
    const std::string path = dir_->File(name);
    std::ofstream(path) << yaml;
    return path;
  }

  void StartProxy(const std::string& pool_file, int threads = 2) {
    auto proxy =
        ServerProcess::Start(WC_WARMCACHED_PATH, {"--proxy", "--pool", pool_file, "-p", "-1", "-l",
                                                  "127.0.0.1", "-t", std::to_string(threads)});
    ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
    proxy_ = std::move(proxy).value();
    auto client = TestClient::Connect(proxy_->port());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  ring::Ring RingOf(const std::string& pool_file, const std::vector<bool>* live = nullptr) {
    auto config = ring::LoadPoolConfig(pool_file);
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    return ring::Ring::Build(config->distribution, config->hash, config->servers, live);
  }

  std::unique_ptr<TestClient> ConnectTo(uint16_t port) {
    auto client = TestClient::Connect(port);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  // Three nodes behind a proxy that ejects a node at its first failure (300 ms timeout) and
  // retries it after 500 ms; `count` keys of node 0 hold "old". Returns those keys.
  std::vector<std::string> StartEjectablePoolWithOldValues(const std::string& prefix,
                                                           size_t count) {
    StartNodes(3);
    const std::string pool = WritePool(
        "  auto_eject_hosts: true\n  server_failure_limit: 1\n  server_retry_timeout: 500\n"
        "  timeout: 300\n");
    StartProxy(pool, 2);
    const std::vector<std::string> keys = KeysOwnedBy(RingOf(pool), 0, prefix, count);
    for (const std::string& key : keys) {
      EXPECT_EQ(CallOrFail(*client_, "set " + key + " 0 0 3\r\nold\r\n"), "STORED\r\n");
    }
    return keys;
  }

  std::unique_ptr<TempDir> dir_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
  std::vector<uint16_t> ports_;
  std::unique_ptr<ServerProcess> proxy_;
  std::unique_ptr<TestClient> client_;
};

TEST_F(ProxyTest, EveryKeyLandsOnTheNodeTheRingNames) {
  StartNodes(3);
  const std::string pool = WritePool("");
  StartProxy(pool);
  const ring::Ring ring = RingOf(pool);
  constexpr int kKeys = 600;
  std::string batch;
  for (int i = 0; i < kKeys; ++i) {
    batch += "set key:" + std::to_string(i) + " " + std::to_string(i) + " 0 3\r\nv" +
             std::to_string(i % 10) + "x\r\n";
  }
  ASSERT_TRUE(client_->Send(batch).ok());
  for (int i = 0; i < kKeys; ++i) {
    auto line = client_->ReadLine();
    ASSERT_TRUE(line.ok()) << line.status().ToString();
    ASSERT_EQ(*line, "STORED") << "key:" << i;
  }
  std::vector<std::unique_ptr<TestClient>> direct;
  for (uint16_t port : ports_) direct.push_back(ConnectTo(port));
  int per_node[3] = {0, 0, 0};
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = "key:" + std::to_string(i);
    const int owner = ring.Owner(key);
    ASSERT_GE(owner, 0);
    ++per_node[owner];
    const std::string value = "VALUE " + key + " " + std::to_string(i) + " 3\r\nv" +
                              std::to_string(i % 10) + "x\r\nEND\r\n";
    for (int n = 0; n < 3; ++n) {
      EXPECT_EQ(GetOrFail(*direct[n], "get " + key + "\r\n"), n == owner ? value : "END\r\n")
          << key << " on node " << n << " (owner " << owner << ")";
    }
    EXPECT_EQ(GetOrFail(*client_, "get " + key + "\r\n"), value);
  }
  for (int n = 0; n < 3; ++n) EXPECT_GT(per_node[n], 0) << "node " << n << " got no keys";
}

TEST_F(ProxyTest, MultiGetFansOutAndKeepsTheClientsOrder) {
  StartNodes(3);
  StartProxy(WritePool(""));
  std::string expected;
  std::string keys;
  for (int i = 0; i < 40; ++i) {
    const std::string key = "mk" + std::to_string(i);
    if (i % 3 != 0) {
      EXPECT_EQ(
          CallOrFail(*client_, "set " + key + " 7 0 2\r\n" + std::to_string(i % 90 + 10) + "\r\n"),
          "STORED\r\n");
      expected += "VALUE " + key + " 7 2\r\n" + std::to_string(i % 90 + 10) + "\r\n";
    }
    keys += " " + key;
  }
  EXPECT_EQ(GetOrFail(*client_, "get" + keys + "\r\n"), expected + "END\r\n");
  // A key asked twice is answered twice, in place, as memcached does.
  EXPECT_EQ(GetOrFail(*client_, "get mk1 mk0 mk1 mk2\r\n"),
            "VALUE mk1 7 2\r\n11\r\nVALUE mk1 7 2\r\n11\r\nVALUE mk2 7 2\r\n12\r\nEND\r\n");
  const std::string gets = GetOrFail(*client_, "gets mk1 mk2 mk4 mk5\r\n");
  EXPECT_EQ(std::count(gets.begin(), gets.end(), '\n'), 9) << gets;
  EXPECT_EQ(gets.rfind("VALUE mk1 7 2 ", 0), 0u) << gets;
}

// Replies far longer than one read (a 300-key multi-get of 12 KB values, quiet meta gets of
// 200 KB values) are cut where they end and arrive byte for byte: the backend frames them as
// their pieces arrive, across many reads.
TEST_F(ProxyTest, LongRepliesArriveWholeAcrossManyReads) {
  StartNodes(3);
  StartProxy(WritePool(""));
  std::string expected;
  std::string keys;
  for (int i = 0; i < 300; ++i) {
    const std::string key = "long" + std::to_string(i);
    const std::string data(12000 + i, static_cast<char>('a' + i % 26));
    ASSERT_EQ(CallOrFail(*client_, "set " + key + " " + std::to_string(i) + " 0 " +
                                       std::to_string(data.size()) + "\r\n" + data + "\r\n"),
              "STORED\r\n");
    expected += "VALUE " + key + " " + std::to_string(i) + " " + std::to_string(data.size()) +
                "\r\n" + data + "\r\n";
    keys += " " + key;
  }
  const std::string got = GetOrFail(*client_, "get" + keys + "\r\n");
  EXPECT_EQ(got.size(), expected.size() + 5);
  EXPECT_TRUE(got == expected + "END\r\n") << "the multi-get reply differs";

  const std::string big(200000, 'z');
  std::string batch;
  std::string want;
  for (int i = 0; i < 6; ++i) {
    const std::string key = "bigq" + std::to_string(i);
    ASSERT_EQ(CallOrFail(*client_, "set " + key + " 0 0 " + std::to_string(big.size()) + "\r\n" +
                                       big + "\r\n"),
              "STORED\r\n");
    batch += "mg " + key + " v q\r\nmg nothere" + std::to_string(i) + " v q\r\n";
    want += "VA " + std::to_string(big.size()) + "\r\n" + big + "\r\n";
  }
  batch += "mn\r\n";
  want += "MN\r\n";
  ASSERT_TRUE(client_->Send(batch).ok());
  auto quiet = client_->ReadBytes(want.size());
  ASSERT_TRUE(quiet.ok()) << quiet.status().ToString();
  EXPECT_TRUE(*quiet == want) << "the quiet replies differ";
  EXPECT_EQ(client_->ReadAvailable(milliseconds(100)), "");
}

TEST_F(ProxyTest, PipelinedNoreplyQuietAndLocalRepliesStayInOrder) {
  StartNodes(3);
  StartProxy(WritePool(""));
  // One write: noreply sets to several nodes, quiet meta requests, a local mn and version,
  // and reads of everything, answered strictly in order.
  std::string batch;
  for (int i = 0; i < 30; ++i) {
    batch += "set nr" + std::to_string(i) + " 0 0 1 noreply\r\n" + std::to_string(i % 10) + "\r\n";
  }
  batch += "ms q1 2 q\r\nhi\r\n";  // quiet success: nothing
  batch += "mg missing v q\r\n";   // quiet miss: nothing
  batch += "mg q1 v q\r\n";        // quiet hit: the value
  batch += "mn\r\n";
  batch += "version\r\n";
  batch += "get nr0 nr1 nr2 nr3 nr4 nr5\r\n";
  batch += "delete nr0 noreply\r\n";
  batch += "get nr0\r\n";
  batch += "incr nr7 5\r\n";
  ASSERT_TRUE(client_->Send(batch).ok());
  std::string want = "VA 2\r\nhi\r\nMN\r\nVERSION 1.6.18\r\n";
  for (int i = 0; i < 6; ++i)
    want += "VALUE nr" + std::to_string(i) + " 0 1\r\n" + std::to_string(i) + "\r\n";
  want += "END\r\nEND\r\n12\r\n";
  auto got = client_->ReadBytes(want.size());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, want);
  EXPECT_EQ(client_->ReadAvailable(milliseconds(100)), "");
}

TEST_F(ProxyTest, BadRequestsGetTheNodesOwnRepliesAndHarmNothing) {
  StartNodes(2);
  // Node 1 is the reference, outside the pool; the proxy routes to node 0 alone.
  auto direct = ConnectTo(ports_[1]);
  ports_.pop_back();
  StartProxy(WritePool(""));
  // Each request is followed by `version`, so the reply (however many lines) ends at a known
  // line; proxy and node must answer byte for byte alike.
  const std::vector<std::string> requests = {
      "bogus\r\n",
      "set k 0 0 3\r\nabcd\r\n",
      "get " + std::string(251, 'k') + "\r\n",
      "set big 0 0 2000000\r\n" + std::string(2000000, 'x') + "\r\n",
      "set k 0 0 1 noreply\r\nz\r\n",
      "get k\r\n",
      "incr k 1\r\n",
      "set n 0 0 1\r\n5\r\n",
      "incr n abc\r\n",
      "touch k abc\r\n",
      "delete k 0\r\n",
      "mg k v t f\r\n",
      "mg\r\n",
      "ms k bad\r\n",
      "ma n D7\r\n",
      "md k q\r\nmn\r\n",
      "mg k v\r\n",
      "flush_all\r\n",
      "get n\r\n",
  };
  for (const std::string& request : requests) {
    const std::string sentinel = "VERSION 1.6.18\r\n";
    const std::string from_node = CallOrFail(*direct, request + "version\r\n", sentinel);
    const std::string from_proxy = CallOrFail(*client_, request + "version\r\n", sentinel);
    EXPECT_EQ(from_proxy, from_node) << "request: " << request.substr(0, 60);
  }
  EXPECT_EQ(CallOrFail(*client_, "quit\r\n", ""), "");
  EXPECT_TRUE(client_->WaitClosedByPeer().ok());
  EXPECT_TRUE(proxy_->IsRunning());
}

TEST_F(ProxyTest, ThirdPartyClientsPassThroughTheProxy) {
  StartNodes(3);
  StartProxy(WritePool("  timeout: 5000\n"));
  const std::string port = std::to_string(proxy_->port());
  // libmemcached's own conformance checks (text protocol: the proxy speaks no binary).
  auto capable = RunCommand(
      {"/usr/bin/memccapable", "-a", "-t", "5", "-h", "127.0.0.1", "-p", port}, seconds(60));
  ASSERT_TRUE(capable.ok()) << capable.status().ToString()
                            << " (tools/install-deps.sh installs libmemcached-tools)";
  EXPECT_EQ(capable->exit_status, 0) << capable->output;
  EXPECT_NE(capable->output.find("All tests passed"), std::string::npos) << capable->output;
  // pymemcache (Debian's python3-pymemcache, seen by /usr/bin/python3 only).
  const std::string script =
      "from pymemcache.client.base import Client\n"
      "c = Client(('127.0.0.1', " +
      port +
      "))\n"
      "c.set_many({'p%d' % i: str(i) for i in range(200)})\n"
      "got = c.get_many(['p%d' % i for i in range(200)])\n"
      "assert len(got) == 200 and got['p7'] == b'7', got\n"
      "assert c.incr('p5', 3) == 8\n"
      "v, cas = c.gets('p1')\n"
      "assert c.cas('p1', 'x', cas) and not c.cas('p1', 'y', cas)\n"
      "assert c.delete('p2') and c.get('p2') is None\n"
      "print('ok')\n";
  auto py = RunCommand({"/usr/bin/python3", "-c", script}, seconds(60));
  ASSERT_TRUE(py.ok()) << py.status().ToString();
  EXPECT_EQ(py->exit_status, 0) << py->output;
  EXPECT_EQ(py->output, "ok\n");
}

TEST_F(ProxyTest, DeadNodeIsEjectedItsKeysMoveAndItComesBack) {
  StartNodes(3);
  const std::string pool = WritePool(
      "  auto_eject_hosts: true\n  server_failure_limit: 1\n  server_retry_timeout: 300\n"
      "  timeout: 2000\n");
  StartProxy(pool, 1);
  const ring::Ring full = RingOf(pool);
  const std::vector<bool> without_0 = {false, true, true};
  const ring::Ring degraded = RingOf(pool, &without_0);
  // Keys owned by node 0 now, and where they go without it.
  const std::vector<std::string> keys = KeysOwnedBy(full, 0, "dk", 20);
  const uint16_t dead_port = ports_[0];
  nodes_[0]->Kill9();
  // The first request to the dead node fails with twemproxy's kind of error line...
  const std::string first = CallOrFail(*client_, "set " + keys[0] + " 0 0 1\r\na\r\n");
  EXPECT_EQ(first.rfind("SERVER_ERROR ", 0), 0u) << first;
  // ...then it is ejected and its keys go to the next node on the ring.
  for (const std::string& key : keys) {
    EXPECT_EQ(CallOrFail(*client_, "set " + key + " 0 0 1\r\nb\r\n"), "STORED\r\n") << key;
  }
  for (const std::string& key : keys) {
    const int owner = degraded.Owner(key);
    ASSERT_GT(owner, 0);
    auto direct = ConnectTo(ports_[static_cast<size_t>(owner)]);
    EXPECT_EQ(GetOrFail(*direct, "get " + key + "\r\n"), "VALUE " + key + " 0 1\r\nb\r\nEND\r\n");
  }
  EXPECT_NE(CallOrFail(*client_, "stats\r\n", "END\r\n")
                .find("backend:127.0.0.1:" + std::to_string(dead_port) + ":ejections 1\r\n"),
            std::string::npos);
  // The node comes back on its port; after the retry timeout its keys return to it.
  auto again = ServerProcess::Start(WC_WARMCACHED_PATH, NodeArgs(dead_port));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  nodes_[0] = std::move(again).value();
  auto direct = ConnectTo(dead_port);
  const bool back = PollUntil([&] {
    const std::string reply = CallOrFail(*client_, "set " + keys[1] + " 0 0 1\r\nc\r\n");
    return reply == "STORED\r\n" && GetOrFail(*direct, "get " + keys[1] + "\r\n") ==
                                        "VALUE " + keys[1] + " 0 1\r\nc\r\nEND\r\n";
  });
  EXPECT_TRUE(back) << "node 0 never got its keys back";
}

// twemproxy's auto_eject_hosts serves stale values here: a node that was out while its keys
// were written elsewhere still holds the old values when it comes back. The proxy deletes
// those keys (and flushes it, for a flush_all it missed) before letting it back in.
TEST_F(ProxyTest, NodeBackFromEjectionNeverServesOldValues) {
  const std::vector<std::string> keys = StartEjectablePoolWithOldValues("sk", 30);
  auto node0 = ConnectTo(ports_[0]);
  EXPECT_EQ(GetOrFail(*node0, "get " + keys[0] + "\r\n"),
            "VALUE " + keys[0] + " 0 3\r\nold\r\nEND\r\n");
  // Node 0 hangs (its data intact): the proxy times out and ejects it.
  ASSERT_TRUE(StopProcess(nodes_[0]->pid()));
  std::string reply = CallOrFail(*client_, "get " + keys[0] + "\r\n");
  EXPECT_EQ(reply, "SERVER_ERROR Connection timed out\r\n");
  // While it is out: half the keys are rewritten, one deleted, then everything flushed but
  // one key written after the flush.
  for (size_t i = 0; i < keys.size(); i += 2) {
    EXPECT_EQ(CallOrFail(*client_, "set " + keys[i] + " 0 0 3\r\nnew\r\n"), "STORED\r\n");
  }
  EXPECT_EQ(CallOrFail(*client_, "delete " + keys[1] + "\r\n"), "NOT_FOUND\r\n");
  ASSERT_EQ(kill(nodes_[0]->pid(), SIGCONT), 0);
  // Back after its retry time: poll until node 0 serves its keys again (a write lands there).
  ASSERT_TRUE(PollUntil([&] {
    EXPECT_EQ(CallOrFail(*client_, "set probe" + keys[3] + " 0 0 1\r\np\r\n"), "STORED\r\n");
    EXPECT_EQ(CallOrFail(*client_, "set " + keys[3] + " 0 0 3\r\nnow\r\n"), "STORED\r\n");
    return GetOrFail(*node0, "get " + keys[3] + "\r\n") ==
           "VALUE " + keys[3] + " 0 3\r\nnow\r\nEND\r\n";
  })) << "node 0 never rejoined";
  // No key may read "old" where a newer write (or delete) was acknowledged.
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string got = GetOrFail(*client_, "get " + keys[i] + "\r\n");
    if (i == 3) {
      EXPECT_EQ(got, "VALUE " + keys[i] + " 0 3\r\nnow\r\nEND\r\n");
    } else if (i % 2 == 0 || i == 1) {
      EXPECT_EQ(got.find("old"), std::string::npos) << keys[i] << ": " << got;
    }
  }
  // The stand-in nodes dropped their copies too: another ejection cannot bring them back.
  for (size_t n = 1; n < 3; ++n) {
    auto other = ConnectTo(ports_[n]);
    for (size_t i = 0; i < keys.size(); i += 2) {
      if (i == 3) continue;
      EXPECT_EQ(GetOrFail(*other, "get " + keys[i] + "\r\n"), "END\r\n") << keys[i];
    }
  }
  // A flush_all it misses while out is applied before it is let back in.
  ASSERT_TRUE(StopProcess(nodes_[0]->pid()));
  reply = CallOrFail(*client_, "get " + keys[3] + "\r\n");
  EXPECT_EQ(reply, "SERVER_ERROR Connection timed out\r\n");
  EXPECT_EQ(CallOrFail(*client_, "flush_all\r\n"), "OK\r\n");
  ASSERT_EQ(kill(nodes_[0]->pid(), SIGCONT), 0);
  ASSERT_TRUE(PollUntil([&] {
    EXPECT_EQ(CallOrFail(*client_, "set " + keys[5] + " 0 0 1\r\nz\r\n"), "STORED\r\n");
    return GetOrFail(*node0, "get " + keys[5] + "\r\n") ==
           "VALUE " + keys[5] + " 0 1\r\nz\r\nEND\r\n";
  })) << "node 0 never rejoined after the flush";
  EXPECT_EQ(GetOrFail(*client_, "get " + keys[3] + "\r\n"), "END\r\n");
}

// A reload while a node is ejected keeps it out, with the keys it must drop.
TEST_F(ProxyTest, ReloadDuringAnEjectionKeepsTheCleanup) {
  const std::vector<std::string> keys = StartEjectablePoolWithOldValues("rk", 10);
  ASSERT_TRUE(StopProcess(nodes_[0]->pid()));
  EXPECT_EQ(CallOrFail(*client_, "get " + keys[0] + "\r\n"),
            "SERVER_ERROR Connection timed out\r\n");
  for (const std::string& key : keys) {
    EXPECT_EQ(CallOrFail(*client_, "set " + key + " 0 0 3\r\nnew\r\n"), "STORED\r\n");
  }
  ASSERT_EQ(kill(proxy_->pid(), SIGHUP), 0);
  ASSERT_TRUE(PollUntil([&] {
    return CallOrFail(*client_, "stats\r\n", "END\r\n").find("STAT proxy_reloads 1\r\n") !=
           std::string::npos;
  }));
  ASSERT_EQ(kill(nodes_[0]->pid(), SIGCONT), 0);
  auto node0 = ConnectTo(ports_[0]);
  ASSERT_TRUE(PollUntil([&] {
    EXPECT_EQ(CallOrFail(*client_, "set " + keys[1] + " 0 0 3\r\nnow\r\n"), "STORED\r\n");
    return GetOrFail(*node0, "get " + keys[1] + "\r\n") ==
           "VALUE " + keys[1] + " 0 3\r\nnow\r\nEND\r\n";
  })) << "node 0 never rejoined";
  for (const std::string& key : keys) {
    const std::string got = GetOrFail(*client_, "get " + key + "\r\n");
    EXPECT_EQ(got.find("old"), std::string::npos) << key << ": " << got;
  }
}

TEST_F(ProxyTest, ShutdownStillAnswersRequestsInFlight) {
  StartNodes(1);
  StartProxy(WritePool(""), 1);
  EXPECT_EQ(CallOrFail(*client_, "set k 0 0 2\r\nhi\r\n"), "STORED\r\n");
  // The node hangs with the request in flight; the proxy is told to stop meanwhile.
  ASSERT_TRUE(StopProcess(nodes_[0]->pid()));
  ASSERT_TRUE(client_->Send("get k\r\n").ok());
  // Polls (on a second connection) until the proxy has forwarded the get: 2 requests sent.
  auto watcher = ConnectTo(proxy_->port());
  const std::string sent = "backend:127.0.0.1:" + std::to_string(ports_[0]) + ":requests 2\r\n";
  ASSERT_TRUE(PollUntil([&] {
    return CallOrFail(*watcher, "stats\r\n", "END\r\n").find(sent) != std::string::npos;
  }));
  ASSERT_EQ(kill(proxy_->pid(), SIGTERM), 0);
  ASSERT_EQ(kill(nodes_[0]->pid(), SIGCONT), 0);
  auto reply = client_->ReadUntil("END\r\n");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, "VALUE k 0 2\r\nhi\r\nEND\r\n");
  EXPECT_TRUE(client_->WaitClosedByPeer().ok());
  EXPECT_TRUE(PollUntil([&] { return !proxy_->IsRunning(); }));
  EXPECT_EQ(proxy_->Stop(), 0) << "exit code 0 after SIGTERM";
}

TEST_F(ProxyTest, SilentBackendGivesServerErrorNotAHang) {
  FakeBackend silent(FakeBackend::Mode::kSilent);
  ports_.push_back(silent.port());
  StartProxy(WritePool("  timeout: 200\n"), 1);
  const auto start = SteadyClock::now();
  EXPECT_EQ(CallOrFail(*client_, "get a\r\n"), "SERVER_ERROR Connection timed out\r\n");
  EXPECT_LT(SteadyClock::now() - start, seconds(3));
  EXPECT_EQ(CallOrFail(*client_, "version\r\n"), "VERSION 1.6.18\r\n");
}

TEST_F(ProxyTest, BackendDyingMidReplyLeavesTheProxyServing) {
  FakeBackend dying(FakeBackend::Mode::kDieMidReply);
  ports_.push_back(dying.port());
  StartProxy(WritePool("  timeout: 2000\n"), 1);
  for (int i = 0; i < 5; ++i) {
    const std::string reply = CallOrFail(*client_, "get k\r\n");
    EXPECT_EQ(reply.rfind("SERVER_ERROR ", 0), 0u) << reply;
  }
  EXPECT_TRUE(proxy_->IsRunning());
  EXPECT_EQ(CallOrFail(*client_, "version\r\n"), "VERSION 1.6.18\r\n");
}

TEST_F(ProxyTest, ReloadOnSighupKeepsClientsAndRoutesByTheNewPool) {
  StartNodes(3);
  const uint16_t third = ports_[2];
  ports_.pop_back();
  const std::string pool = WritePool("");
  StartProxy(pool, 2);
  EXPECT_EQ(CallOrFail(*client_, "set before 0 0 1\r\n1\r\n"), "STORED\r\n");
  ports_.push_back(third);
  const std::string bigger = WritePool("", "pool2.yml");
  std::filesystem::rename(bigger, pool);
  ASSERT_EQ(kill(proxy_->pid(), SIGHUP), 0);
  const ring::Ring ring = RingOf(pool);
  // Poll until the new pool routes: a key the third node owns lands there.
  const std::string key = KeysOwnedBy(ring, 2, "r", 1)[0];
  auto direct = ConnectTo(third);
  EXPECT_TRUE(PollUntil([&] {
    EXPECT_EQ(CallOrFail(*client_, "set " + key + " 0 0 1\r\nx\r\n"), "STORED\r\n");
    return GetOrFail(*direct, "get " + key + "\r\n") != "END\r\n";
  }));
  const std::string stats = CallOrFail(*client_, "stats\r\n", "END\r\n");
  EXPECT_NE(stats.find("STAT proxy_reloads 1\r\n"), std::string::npos) << stats;
  EXPECT_NE(stats.find("STAT proxy_servers 3\r\n"), std::string::npos) << stats;
}

TEST_F(ProxyTest, ReplicasWriteTwoNodesAndReadFromTheHealthyOne) {
  StartNodes(3);
  const std::string pool = WritePool(
      "  replicas: 2\n  auto_eject_hosts: true\n  server_failure_limit: 1\n"
      "  server_retry_timeout: 60000\n  timeout: 2000\n");
  StartProxy(pool, 1);
  const ring::Ring ring = RingOf(pool);
  std::vector<std::unique_ptr<TestClient>> direct;
  for (uint16_t port : ports_) direct.push_back(ConnectTo(port));
  std::string key;
  int replicas[2];
  for (int i = 0; key.empty(); ++i) {
    const std::string k = "rep" + std::to_string(i);
    if (ring.Replicas(k, 2, replicas) == 2 && replicas[0] == 0) key = k;
  }
  EXPECT_EQ(CallOrFail(*client_, "set " + key + " 3 0 2\r\nok\r\n"), "STORED\r\n");
  const std::string value = "VALUE " + key + " 3 2\r\nok\r\nEND\r\n";
  for (int n = 0; n < 3; ++n) {
    const bool holds = n == replicas[0] || n == replicas[1];
    EXPECT_EQ(GetOrFail(*direct[n], "get " + key + "\r\n"), holds ? value : "END\r\n") << n;
  }
  nodes_[0]->Kill9();
  direct[0].reset();
  // The first read may meet the dead owner; after its ejection the replica answers.
  const std::string first = GetOrFail(*client_, "get " + key + "\r\n");
  if (first != value) {
    EXPECT_EQ(first.rfind("SERVER_ERROR ", 0), 0u) << first;
  }
  EXPECT_EQ(GetOrFail(*client_, "get " + key + "\r\n"), value);
}

TEST_F(ProxyTest, BadPoolFileIsOneLineAndExit) {
  const std::string path = dir_->File("bad.yml");
  std::ofstream(path)
      << "alpha:\n  listen: 127.0.0.1:22121\n  redis: true\n  servers:\n   - 127.0.0.1:1:1\n";
  auto proxy = ServerProcess::Start(WC_WARMCACHED_PATH, {"--proxy", "--pool", path, "-p", "-1"}, {},
                                    seconds(5));
  ASSERT_FALSE(proxy.ok());
  EXPECT_NE(proxy.status().message().find("redis"), std::string::npos) << proxy.status().message();
}

}  // namespace
}  // namespace warmcache::testutil
