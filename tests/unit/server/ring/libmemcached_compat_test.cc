// SPDX-License-Identifier: BSD-3-Clause
// Issue #6's acceptance test: the ring picks the server Debian's libmemcached 1.1.4 picks
// (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) for every key, and the key hashes equal libhashkit's
// where libhashkit and twemproxy define the same function. libmemcached computes the server
// for a key without connecting, so no server runs.
#include <gtest/gtest.h>
#include <libhashkit-1.0/hashkit.h>
#include <libmemcached/memcached.h>

#include <cstdint>
#include <cstdio>
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

// How many of kKeys keys `ring` places on another server than libmemcached does with `nodes`.
// Every 100th key is also looked up by memcached_server_by_key, which names the server: the
// index libmemcached returns is the position in the order the servers were added.
int CountDisagreements(const std::vector<Node>& nodes, const Ring& ring) {
  Memc memc = LibmemcachedPool(nodes);
  std::mt19937_64 rng(nodes.size());
  int mismatches = 0;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = RandomKey(rng, i);
    const uint32_t expected = memcached_generate_hash(memc.get(), key.data(), key.size());
    const int owner = ring.Owner(key);
    if (static_cast<uint32_t>(owner) != expected) ++mismatches;
    if (i % 100 == 0) {
      // libmemcached 1.1.4 leaves *error untouched on success: start from success.
      memcached_return_t rc = MEMCACHED_SUCCESS;
      const memcached_instance_st* server =
          memcached_server_by_key(memc.get(), key.data(), key.size(), &rc);
      EXPECT_EQ(MEMCACHED_SUCCESS, rc);
      if (server == nullptr) continue;
      EXPECT_EQ(nodes[expected].Address(), std::string(memcached_server_name(server)) + ":" +
                                               std::to_string(memcached_server_port(server)));
    }
  }
  return mismatches;
}

void ExpectSameOwners(const std::vector<Node>& nodes) {
  const Ring ring = Ring::Build(Distribution::kKetama, KeyHash::kMd5, nodes);
  EXPECT_EQ(0, CountDisagreements(nodes, ring)) << "of " << kKeys << " keys";
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

// The comparison can fail: hashing "host:11211" instead of "host" for the default port, or
// ignoring the weights, moves many keys.
TEST(LibmemcachedCompatTest, AWrongRingDisagrees) {
  const std::vector<Node> nodes = MixedNodes(10, 10);
  std::vector<Node> port_always = nodes;
  for (Node& node : port_always) node.name = node.Address();
  EXPECT_GT(
      CountDisagreements(nodes, Ring::Build(Distribution::kKetama, KeyHash::kMd5, port_always)),
      kKeys / 20);
  std::vector<Node> unweighted = nodes;
  for (Node& node : unweighted) node.weight = 1;
  EXPECT_GT(
      CountDisagreements(nodes, Ring::Build(Distribution::kKetama, KeyHash::kMd5, unweighted)),
      kKeys / 20);
}

// libmemcached has no server names: twemproxy's "host:port:weight name" is checked against
// nutcracker itself (ring_twemproxy_test).

struct HashPair {
  KeyHash ours;
  hashkit_hash_algorithm_t libhashkit;
};

// libhashkit's functions of the same name as twemproxy's. twemproxy's crc16 and crc32a have no
// libhashkit counterpart (libhashkit's crc32 is twemproxy's crc32).
const HashPair kSharedHashes[] = {
    {KeyHash::kMd5, HASHKIT_HASH_MD5},
    {KeyHash::kCrc32, HASHKIT_HASH_CRC},
    {KeyHash::kFnv1_64, HASHKIT_HASH_FNV1_64},
    {KeyHash::kFnv1a64, HASHKIT_HASH_FNV1A_64},
    {KeyHash::kFnv1_32, HASHKIT_HASH_FNV1_32},
    {KeyHash::kFnv1a32, HASHKIT_HASH_FNV1A_32},
    {KeyHash::kOneAtATime, HASHKIT_HASH_DEFAULT},
    {KeyHash::kJenkins, HASHKIT_HASH_JENKINS},
    {KeyHash::kMurmur, HASHKIT_HASH_MURMUR},
    {KeyHash::kHsieh, HASHKIT_HASH_HSIEH},
};

TEST(LibhashkitCompatTest, SharedHashesAgree) {
  for (const HashPair& pair : kSharedHashes) {
    if (!libhashkit_has_algorithm(pair.libhashkit)) {
      std::printf("libhashkit lacks %s\n", std::string(KeyHashName(pair.ours)).c_str());
      continue;
    }
    std::mt19937_64 rng(7);
    int mismatches = 0;
    for (int i = 0; i < kKeys / 10; ++i) {
      const std::string key = RandomKey(rng, i);
      const uint32_t expected = libhashkit_digest(key.data(), key.size(), pair.libhashkit);
      if (HashKey(pair.ours, key) != expected && ++mismatches <= 3) {
        ADD_FAILURE() << KeyHashName(pair.ours) << " of '" << key << "': libhashkit " << expected
                      << ", ours " << HashKey(pair.ours, key);
      }
    }
    EXPECT_EQ(0, mismatches) << KeyHashName(pair.ours);
  }
}

}  // namespace
}  // namespace warmcache::ring
