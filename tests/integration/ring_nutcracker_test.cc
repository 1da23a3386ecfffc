// SPDX-License-Identifier: BSD-3-Clause
// Issue #6: our ring against twemproxy itself. Debian's nutcracker (twemproxy 0.5.0) fronts three
// warmcached nodes of mixed weights with a generated pool file (md5, ketama); every key set
// through it must sit on exactly the node wc_ring names for the same file. Then a node dies:
// with auto_eject_hosts nutcracker routes its keys to the node our ring names when that node is
// not live, and once the node is back (same port) and the retry timeout has passed, to it again.
//
// nutcracker is required, not optional: install it with tools/install-deps.sh.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/ring/pool_config.h"
#include "server/ring/ring.h"
#include "tests/testutil/bulk_items.h"
#include "tests/testutil/escape.h"
#include "tests/testutil/oracle.h"
#include "tests/testutil/reply_text.h"
#include "tests/testutil/server_process.h"
#include "tests/testutil/temp_dir.h"
#include "tests/testutil/test_client.h"

namespace warmcache::testutil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kNutcracker = "/usr/sbin/nutcracker";
constexpr int kKeys = 1200;
constexpr int kRetryTimeoutMs = 1000;  // server_retry_timeout: how long an ejected node stays out
constexpr milliseconds kRerouteDeadline = seconds(10);
constexpr milliseconds kReturnDeadline = milliseconds(kRetryTimeoutMs) + seconds(15);
constexpr milliseconds kPollEvery = milliseconds(20);
constexpr int kStartAttempts = 5;  // a port picked free may be taken before nutcracker binds it

struct NodeSpec {
  uint32_t weight;
  std::string name;  // twemproxy hashes the name instead of host:port when there is one
};
const NodeSpec kNodes[] = {{1, ""}, {2, ""}, {3, "gamma"}};

std::string Key(int i) { return "nk:" + std::to_string(i); }

class RingNutcrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(0, access(kNutcracker, X_OK))
        << kNutcracker << " is missing: the ring tests need Debian's nutcracker (twemproxy); "
        << "run tools/install-deps.sh";
    auto dir = TempDir::Create("wc_nutcracker_");
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    dir_ = std::move(*dir);
    for (size_t i = 0; i < std::size(kNodes); ++i) {
      auto node = StartNode(EphemeralPortArgs());
      ASSERT_TRUE(node.ok()) << node.status().ToString();
      nodes_.push_back(std::move(*node));
    }
    ASSERT_NO_FATAL_FAILURE(StartNutcracker());
    auto client = TestClient::Connect(proxy_->port());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    proxy_client_ = std::move(*client);
  }

  void TearDown() override {
    proxy_client_.reset();
    if (proxy_) proxy_->Stop();
    for (auto& node : nodes_) {
      if (node && node->IsRunning()) {
        EXPECT_EQ(0, node->Stop()) << node->StderrText();
      }
    }
  }

  static Result<std::unique_ptr<ServerProcess>> StartNode(const std::vector<std::string>& args,
                                                          uint16_t port = 0) {
    std::vector<std::string> all = args;
    all.push_back("--persistence=off");
    if (port == 0) return ServerProcess::Start(WC_WARMCACHED_PATH, all);
    return ServerProcess::StartOnPort(WC_WARMCACHED_PATH, all, port);
  }

  std::string PoolYaml(uint16_t listen) const {
    std::string yaml =
        "wc:\n  listen: 127.0.0.1:" + std::to_string(listen) +
        "\n  hash: md5\n  distribution: ketama\n  auto_eject_hosts: true\n" +
        "  server_failure_limit: 1\n  server_retry_timeout: " + std::to_string(kRetryTimeoutMs) +
        "\n  timeout: 2000\n  servers:\n";
    for (size_t i = 0; i < nodes_.size(); ++i) {
      yaml += "   - 127.0.0.1:" + std::to_string(nodes_[i]->port()) + ":" +
              std::to_string(kNodes[i].weight) +
              (kNodes[i].name.empty() ? "" : " " + kNodes[i].name) + "\n";
    }
    return yaml;
  }

  // Picks two free ports (listen, stats), writes the pool file, starts nutcracker; retries
  // when another process took a port first.
  void StartNutcracker() {
    std::string last_error;
    for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
      auto listen = PickFreePort();
      auto stats = PickFreePort();
      ASSERT_TRUE(listen.ok() && stats.ok()) << listen.status().ToString();
      const std::string yaml = PoolYaml(*listen);
      const std::string conf = dir_->File("nutcracker.yml");
      std::ofstream(conf) << yaml;
      auto started = ServerProcess::StartOnPort(kNutcracker,
                                                {"-c", conf, "-o", dir_->File("nutcracker.log"),
                                                 "-s", std::to_string(*stats), "-a", "127.0.0.1"},
                                                *listen);
      if (started.ok()) {
        proxy_ = std::move(*started);
        auto pool = ring::ParsePoolConfig(yaml);
        ASSERT_TRUE(pool.ok()) << pool.status().ToString();
        pool_ = *pool;
        return;
      }
      last_error =
          started.status().ToString() + "; log: " + ReadFileOrEmpty(dir_->File("nutcracker.log"));
    }
    FAIL() << "nutcracker did not start in " << kStartAttempts << " attempts: " << last_error;
  }

  ring::Ring RingWithout(int dead) const {
    std::vector<bool> live(pool_.servers.size(), true);
    if (dead >= 0) live[dead] = false;
    return ring::BuildRing(pool_, &live);
  }

  // Through nutcracker: one set, its reply line ("STORED", or nutcracker's error).
  std::string ProxySet(const std::string& key, const std::string& value) {
    auto reply = proxy_client_->Call("set " + key + " 0 0 " + std::to_string(value.size()) +
                                     "\r\n" + value + "\r\n");
    EXPECT_TRUE(reply.ok()) << key << ": " << reply.status().ToString();
    return reply.ok() ? *reply : "";
  }
  // Sets `key` through nutcracker until it answers STORED (an ejected node's first requests
  // fail); fails the test past `deadline`.
  void ProxySetUntilStored(const std::string& key, const std::string& value,
                           Clock::time_point deadline) {
    for (std::string reply; (reply = ProxySet(key, value)) != "STORED\r\n";) {
      ASSERT_LT(Clock::now(), deadline) << key << ": " << EscapeBytes(reply);
      std::this_thread::sleep_for(kPollEvery);
    }
  }
  // Gets `key` through nutcracker until it answers with a value or a miss; returns the reply.
  std::string ProxyGet(const std::string& key, Clock::time_point deadline) {
    for (;;) {
      auto reply = proxy_client_->CallGet("get " + key + "\r\n");
      EXPECT_TRUE(reply.ok()) << key << ": " << reply.status().ToString();
      if (!reply.ok() || reply->rfind("SERVER_ERROR", 0) != 0) return reply.ok() ? *reply : "";
      if (Clock::now() >= deadline) return *reply;
      std::this_thread::sleep_for(kPollEvery);
    }
  }

  // Sets keys 0..kKeys-1 through nutcracker, 100 per round trip.
  void SetAllThroughProxy(const std::string& prefix) {
    for (int first = 0; first < kKeys; first += 100) {
      std::string batch;
      for (int i = first; i < first + 100; ++i) {
        const std::string value = prefix + Key(i);
        batch += "set " + Key(i) + " 0 0 " + std::to_string(value.size()) + "\r\n" + value + "\r\n";
      }
      ASSERT_TRUE(proxy_client_->Send(batch).ok());
      for (int i = first; i < first + 100; ++i) {
        auto line = proxy_client_->ReadLine();
        ASSERT_TRUE(line.ok()) << line.status().ToString();
        ASSERT_EQ("STORED", *line) << Key(i);
      }
    }
  }

  // What node `i` holds of keys 0..kKeys-1, read directly.
  std::map<std::string, Found> NodeHolds(size_t i) {
    auto client = TestClient::Connect(nodes_[i]->port());
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    if (!client.ok()) return {};
    std::vector<std::string> keys;
    for (int k = 0; k < kKeys; ++k) keys.push_back(Key(k));
    auto found = GetMany(**client, keys);
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    return found.ok() ? *found : std::map<std::string, Found>{};
  }

  std::unique_ptr<TempDir> dir_;  // nutcracker's pool file and log
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
  std::unique_ptr<ServerProcess> proxy_;
  std::unique_ptr<TestClient> proxy_client_;
  ring::PoolConfig pool_;  // parsed from the very file nutcracker runs with
};

TEST_F(RingNutcrackerTest, EveryKeyIsOnTheNodeOurRingNames) {
  ASSERT_NO_FATAL_FAILURE(SetAllThroughProxy("v:"));
  const ring::Ring ring = RingWithout(-1);
  std::vector<std::map<std::string, Found>> held;
  for (size_t i = 0; i < nodes_.size(); ++i) held.push_back(NodeHolds(i));
  std::vector<int> owned(nodes_.size(), 0);
  for (int k = 0; k < kKeys; ++k) {
    const int owner = ring.Owner(Key(k));
    ASSERT_GE(owner, 0);
    ++owned[owner];
    for (size_t i = 0; i < nodes_.size(); ++i) {
      EXPECT_EQ(static_cast<int>(i) == owner ? 1u : 0u, held[i].count(Key(k)))
          << Key(k) << " on node " << i << " (weight " << kNodes[i].weight << "); ours says node "
          << owner;
    }
  }
  // The weights show: the weight-3 node owns more than the weight-1 node.
  EXPECT_GT(owned[2], owned[0]);
  EXPECT_GT(owned[0], 0);
}

TEST_F(RingNutcrackerTest, EjectedNodeReroutesAndComesBack) {
  ASSERT_NO_FATAL_FAILURE(SetAllThroughProxy("v:"));
  constexpr int kDead = 1;
  const ring::Ring full = RingWithout(-1);
  const ring::Ring without = RingWithout(kDead);
  std::vector<std::string> dead_keys;
  for (int k = 0; k < kKeys; ++k) {
    if (full.Owner(Key(k)) == kDead) dead_keys.push_back(Key(k));
  }
  ASSERT_GT(dead_keys.size(), 10u);
  const uint16_t dead_port = nodes_[kDead]->port();
  nodes_[kDead]->Kill9();

  // Ejected: the dead node's keys go where our ring without it says.
  auto deadline = Clock::now() + kRerouteDeadline;
  for (const std::string& key : dead_keys) {
    ASSERT_NO_FATAL_FAILURE(ProxySetUntilStored(key, "after:" + key, deadline));
  }
  for (const std::string& key : dead_keys) {
    EXPECT_EQ(Value(key, 0, "after:" + key) + "END\r\n", ProxyGet(key, deadline)) << key;
  }
  std::map<std::string, Found> held[3];
  for (size_t i : {0, 2}) held[i] = NodeHolds(i);
  for (const std::string& key : dead_keys) {
    const int owner = without.Owner(key);
    ASSERT_NE(kDead, owner);
    EXPECT_EQ("after:" + key, held[owner][key].data) << key << " should be on node " << owner;
  }

  // Back on the same port: after the retry timeout nutcracker sends the node its keys again.
  std::vector<std::string> args = {"-p", std::to_string(dead_port), "-U", "0", "-l", "127.0.0.1"};
  auto restarted = StartNode(args, dead_port);
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  nodes_[kDead] = std::move(*restarted);
  auto direct = TestClient::Connect(dead_port);
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  const std::string probe = dead_keys.front();
  deadline = Clock::now() + kReturnDeadline;
  for (int n = 0;; ++n) {
    const std::string value = "back:" + std::to_string(n);
    ProxySet(probe, value);
    auto got = (*direct)->CallGet("get " + probe + "\r\n");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    if (*got == Value(probe, 0, value) + "END\r\n") break;
    ASSERT_LT(Clock::now(), deadline) << "node " << kDead << " got no traffic back";
    std::this_thread::sleep_for(kPollEvery);
  }
  for (const std::string& key : dead_keys) {
    ASSERT_NO_FATAL_FAILURE(ProxySetUntilStored(key, "back:" + key, deadline));
  }
  const std::map<std::string, Found> back = NodeHolds(kDead);
  for (const std::string& key : dead_keys) {
    EXPECT_EQ("back:" + key, back.count(key) ? back.at(key).data : "(missing)") << key;
  }
}

}  // namespace
}  // namespace warmcache::testutil
