// SPDX-License-Identifier: BSD-3-Clause
// The ring against twemproxy itself: Debian's nutcracker 0.5.0 routes multi-gets to fake
// backends, and for every pool (each of the twelve hashes under ketama and under modula, with
// mixed weights and some named servers, plus a hash_tag pool) the server it picked for each
// key must be the one BuildRing(ParsePoolConfig(same file)) picks. Also: the parser accepts
// and refuses what `nutcracker -t` does where twemproxy has a rule, and both accept
// conf/nutcracker.yml.example.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "server/ring/pool_config.h"
#include "tests/testutil/run_command.h"
#include "tests/testutil/temp_dir.h"
#include "tests/unit/server/ring/nutcracker_oracle.h"

namespace warmcache::ring {
namespace {

constexpr int kBackends = 5;
constexpr int kKeysPerPool = 2000;
constexpr const char* kHashes[] = {"one_at_a_time", "md5",     "crc16",    "crc32",
                                   "crc32a",        "fnv1_64", "fnv1a_64", "fnv1_32",
                                   "fnv1a_32",      "hsieh",   "murmur",   "jenkins"};

// Mixed weights; servers 1 and 3 are named, so twemproxy hashes (and, for modula, sorts) by
// name for them and by "127.0.0.1:port" for the others.
std::string Servers(const NutcrackerOracle& oracle) {
  const int weights[kBackends] = {1, 3, 2, 1, 5};
  const char* names[kBackends] = {"", "cache-b", "", "zz", ""};
  std::string out = "  servers:\n";
  for (int i = 0; i < kBackends; ++i) {
    out += "   - 127.0.0.1:" + std::to_string(oracle.backend_port(i)) + ":" +
           std::to_string(weights[i]) + (names[i][0] ? std::string(" ") + names[i] : "") + "\n";
  }
  return out;
}

std::string Pool(const NutcrackerOracle& oracle, const std::string& name, const std::string& keys) {
  return name + ":\n  listen: " + oracle.ListenPath(name) + " 0600\n" + keys + "  timeout: 5000\n" +
         Servers(oracle);
}

// Printable keys, some with bytes >= 0x80 (which twemproxy reads as signed chars), and some
// with a "{tag}" for the hash_tag pool.
std::vector<std::string> Keys(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> keys;
  for (int i = 0; i < kKeysPerPool; ++i) {
    std::string key;
    if (i % 3 == 0) {
      key = "user:" + std::to_string(i) + ":{" + std::to_string(rng() % 50) + "}";
    } else {
      key.resize(1 + rng() % 40);
      for (char& c : key) c = static_cast<char>(i % 3 == 1 ? 33 + rng() % 94 : 33 + rng() % 223);
    }
    // Distinct, and the random bytes stay last: hsieh treats a key's last 1-3 bytes apart.
    keys.push_back(std::to_string(i) + "." + key);
  }
  return keys;
}

class TwemproxyCompatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testutil::HaveProgram("nutcracker")) GTEST_SKIP() << "nutcracker is not installed";
    auto oracle = NutcrackerOracle::Create(kBackends);
    ASSERT_TRUE(oracle.ok()) << oracle.status().ToString();
    oracle_ = std::move(oracle).value();
    for (const char* hash : kHashes) {
      for (const char* dist : {"ketama", "modula"}) {
        const std::string name = std::string(dist) + "_" + hash;
        yaml_ += Pool(*oracle_, name,
                      "  hash: " + std::string(hash) + "\n  distribution: " + dist + "\n");
        pools_.push_back(name);
      }
    }
    yaml_ += Pool(*oracle_, "tagged", "  hash_tag: \"{}\"\n");
    pools_.push_back("tagged");
    const Status started = oracle_->Start(yaml_, pools_);
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  std::unique_ptr<NutcrackerOracle> oracle_;
  std::string yaml_;
  std::vector<std::string> pools_;
};

TEST_F(TwemproxyCompatTest, EveryPoolRoutesEveryKeyAsNutcrackerDoes) {
  const std::vector<std::string> keys = Keys(42);
  for (const std::string& name : pools_) {
    Result<PoolConfig> pool = ParsePoolConfig(yaml_, name);
    ASSERT_TRUE(pool.ok()) << pool.status().ToString();
    const Ring ring = BuildRing(*pool);
    Result<std::vector<int>> routed = oracle_->Route(name, keys);
    ASSERT_TRUE(routed.ok()) << routed.status().ToString();
    int mismatches = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      ASSERT_NE(-1, (*routed)[i]) << name << ": no backend saw '" << keys[i] << "'";
      if ((*routed)[i] != ring.Owner(keys[i]) && ++mismatches <= 3) {
        ADD_FAILURE() << name << ": '" << keys[i] << "' nutcracker -> " << (*routed)[i]
                      << ", ring -> " << ring.Owner(keys[i]);
      }
    }
    EXPECT_EQ(0, mismatches) << name << ", of " << keys.size() << " keys";
  }
}

bool NutcrackerAccepts(const std::string& path) {
  auto result = testutil::RunCommand({"nutcracker", "-t", "-c", path}, std::chrono::seconds(10));
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() && result->exit_status == 0;
}

// Where twemproxy has a rule, the parser follows it: these pools are accepted, or refused, by
// both `nutcracker -t` and ParsePoolConfig. (warmcache refuses more: docs/ring.md lists what.)
TEST(NutcrackerParserTest, AcceptsAndRefusesWhatNutcrackerDoes) {
  if (!testutil::HaveProgram("nutcracker")) GTEST_SKIP() << "nutcracker is not installed";
  const std::string head = "p:\n  listen: 127.0.0.1:22121\n";
  const std::string one = "  servers:\n   - 127.0.0.1:11211:1\n";
  struct Case {
    std::string body;
    bool accepted;
  };
  std::vector<Case> cases = {
      {one, true},
      {"  hash: murmur\n  hash_tag: \"{}\"\n  distribution: modula\n  timeout: 0\n" + one, true},
      {"  backlog: 1\n  preconnect: true\n  client_connections: 9\n  redis_db: 3\n" + one, true},
      {"  tcpkeepalive: true\n  redis: false\n  server_connections: 2\n" + one, true},
      {"  auto_eject_hosts: true\n  server_retry_timeout: 1\n  server_failure_limit: 1\n" + one,
       true},
      {"  servers:\n   - 10.0.0.1:11211:1 a\n   - 10.0.0.1:11212:1 b\n", true},
      {"  bogus: 1\n" + one, false},
      {"  redis_auth: x\n" + one, false},
      {"  tcpkeepalive: yes\n" + one, false},
      {"  preconnect: 1\n" + one, false},
      {"  hash: sha1\n" + one, false},
      {"  distribution: vnode\n" + one, false},
      {"  hash_tag: \"{\"\n" + one, false},
      {"  timeout: -1\n" + one, false},
      {"  timeout: 1\n  timeout: 2\n" + one, false},
      {"  server_connections: 0\n" + one, false},
      {"  servers:\n   - 127.0.0.1:11211:0\n", false},
      {"  servers:\n   - 127.0.0.1:0:1\n", false},
      {"  servers:\n   - 127.0.0.1:65536:1\n", false},
      {"  servers:\n   - 127.0.0.1:11211\n", false},
      {"  servers:\n   - 10.0.0.1:11211:1\n   - 10.0.0.1:11211:2\n", false},
      {"  servers:\n   - 10.0.0.1:11211:1 a\n   - 10.0.0.2:11211:1 a\n", false},
      {"  servers: [127.0.0.1:11211:1]\n", false},
      {"  timeout: 1\n", false},
  };
  auto dir = testutil::TempDir::Create("wc_nc_parse_");
  ASSERT_TRUE(dir.ok());
  const std::string path = (*dir)->File("pool.yml");
  for (const Case& c : cases) {
    std::ofstream(path) << head << c.body;
    EXPECT_EQ(c.accepted, NutcrackerAccepts(path)) << "nutcracker, on:\n" << c.body;
    Result<PoolConfig> pool = LoadPoolConfig(path);
    EXPECT_EQ(c.accepted, pool.ok()) << pool.status().ToString() << "\non:\n" << c.body;
  }
}

TEST(NutcrackerExampleTest, NutcrackerAndWarmcacheAcceptTheExamplePoolFile) {
  const std::string example = std::string(WC_SOURCE_DIR) + "/conf/nutcracker.yml.example";
  Result<PoolConfig> pool = LoadPoolConfig(example);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  if (!testutil::HaveProgram("nutcracker")) GTEST_SKIP() << "nutcracker is not installed";
  EXPECT_TRUE(NutcrackerAccepts(example));
}

}  // namespace
}  // namespace warmcache::ring
