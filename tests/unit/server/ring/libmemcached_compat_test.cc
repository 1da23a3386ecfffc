// SPDX-License-Identifier: BSD-3-Clause
// Issue #6's acceptance test: the ring picks the server Debian's libmemcached 1.1.4 picks
// (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) for every key, and the key hashes equal libhashkit's
// where libhashkit and twemproxy define the same function. libmemcached computes the server
// for a key without connecting, so no server runs.
#include <gtest/gtest.h>
#include <libhashkit-1.0/hashkit.h>
#include <libmemcached/memcached.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "server/ring/ring.h"

namespace warmcache::ring {
namespace {

constexpr int kKeys = 100'000;

struct MemcFree {
  void operator()(memcached_st* memc) const { memcached_free(memc); }
};
using Memc = std::unique_ptr<memcached_st, MemcFree>;

Memc LibmemcachedPool(const std::vector<Node>& nodes) {
  Memc memc(memcached_create(nullptr));
  EXPECT_EQ(MEMCACHED_SUCCESS,
            memcached_behavior_set(memc.get(), MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1));
  for (const Node& node : nodes) {
    EXPECT_EQ(MEMCACHED_SUCCESS, memcached_server_add_with_weight(memc.get(), node.host.c_str(),
                                                                  node.port, node.weight));
  }
  return memc;
}

// Keys as applications write them, plus arbitrary bytes (no space or control characters,
// which memcache keys cannot hold) including bytes >= 0x80.
std::string RandomKey(std::mt19937_64& rng, int i) {
  if (i % 2 == 0) return "user:" + std::to_string(rng() % 10'000'000) + ":profile";
  std::string key(1 + rng() % 60, ' ');
  for (char& c : key) c = static_cast<char>(33 + rng() % 223);
  return key;
}

// Mixed weights 1..5, mixed ports (11211, which both leave out of the hashed name, and not).
std::vector<Node> MixedNodes(int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Node> nodes;
  for (int i = 0; i < count; ++i) {
    Node node;
    node.host = i % 3 == 2 ? "cache-" + std::to_string(i) + ".example.net"
                           : "10.0.0." + std::to_string(10 + i);
    node.port = static_cast<uint16_t>(i % 2 == 0 ? 11211 : 11211 + i);
    node.weight = static_cast<uint32_t>(1 + rng() % 5);
    nodes.push_back(node);
  }
  return nodes;
}

void ExpectSameOwners(const std::vector<Node>& nodes) {
  Memc memc = LibmemcachedPool(nodes);
  const Ring ring = Ring::Build(Distribution::kKetama, KeyHash::kMd5, nodes);
  std::mt19937_64 rng(nodes.size());
  int mismatches = 0;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = RandomKey(rng, i);
    const uint32_t expected = memcached_generate_hash(memc.get(), key.data(), key.size());
    if (static_cast<uint32_t>(ring.Owner(key)) != expected && ++mismatches <= 5) {
      ADD_FAILURE() << "key '" << key << "': libmemcached " << expected << ", ring "
                    << ring.Owner(key);
    }
  }
  EXPECT_EQ(0, mismatches) << "of " << kKeys << " keys";
}

TEST(LibmemcachedCompatTest, OneServer) { ExpectSameOwners(MixedNodes(1, 1)); }
TEST(LibmemcachedCompatTest, ThreeServersMixedWeightsAndPorts) {
  ExpectSameOwners(MixedNodes(3, 3));
}
TEST(LibmemcachedCompatTest, TenServersMixedWeightsAndPorts) {
  ExpectSameOwners(MixedNodes(10, 10));
}

TEST(LibmemcachedCompatTest, EqualWeights) {
  std::vector<Node> nodes = MixedNodes(5, 5);
  for (Node& node : nodes) node.weight = 1;
  ExpectSameOwners(nodes);
}

}  // namespace
}  // namespace warmcache::ring
