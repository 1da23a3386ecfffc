// SPDX-License-Identifier: BSD-3-Clause
// The ring against twemproxy itself: Debian's nutcracker 0.5.0 routes multi-gets to fake
// backends, and for every pool (each of the twelve hashes under ketama and under modula, with
// mixed weights and some named servers, plus a hash_tag pool) the server it picked for each
// key must be the one BuildRing(ParsePoolConfig(same file)) picks. Also: nutcracker and our
// parser both accept conf/nutcracker.yml.example.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "server/ring/pool_config.h"
#include "tests/testutil/run_command.h"
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

TEST(NutcrackerExampleTest, NutcrackerAndWarmcacheAcceptTheExamplePoolFile) {
  const std::string example = std::string(WC_SOURCE_DIR) + "/conf/nutcracker.yml.example";
  Result<PoolConfig> pool = LoadPoolConfig(example);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  if (!testutil::HaveProgram("nutcracker")) GTEST_SKIP() << "nutcracker is not installed";
  auto result = testutil::RunCommand({"nutcracker", "-t", "-c", example, "-o", "/dev/stderr"},
                                     std::chrono::seconds(10));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(0, result->exit_status) << result->output;
}

}  // namespace
}  // namespace warmcache::ring
