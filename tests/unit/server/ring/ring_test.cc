// SPDX-License-Identifier: BSD-3-Clause
// The ring on its own: identities, key hash vectors, point counts, lookup, replicas, the live
// mask, modula's slot order, hash tags, and how many keys move when the pool changes. The
// comparison with libmemcached is ring_compat_test, with nutcracker twemproxy_compat_test.
#include "server/ring/ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace warmcache::ring {
namespace {

Node MakeNode(std::string host, uint16_t port = 11211, uint32_t weight = 1, std::string name = "") {
  Node node;
  node.host = std::move(host);
  node.port = port;
  node.weight = weight;
  node.name = std::move(name);
  return node;
}

std::vector<Node> EqualNodes(int count) {
  std::vector<Node> nodes;
  for (int i = 0; i < count; ++i) nodes.push_back(MakeNode("10.1.0." + std::to_string(i + 1)));
  return nodes;
}

std::string Key(int i) { return "key:" + std::to_string(i); }

TEST(NodeTest, HashIdentityLeavesOutTheDefaultPort) {
  EXPECT_EQ("10.0.0.1", MakeNode("10.0.0.1").HashIdentity());
  EXPECT_EQ("10.0.0.1:11212", MakeNode("10.0.0.1", 11212).HashIdentity());
  EXPECT_EQ("cache-a", MakeNode("10.0.0.1", 11212, 1, "cache-a").HashIdentity());
  EXPECT_EQ("10.0.0.1:11211", MakeNode("10.0.0.1").Address());
}

// Expected values come from Debian's libhashkit 1.1.4 (libhashkit_digest) where it has the
// function and from CRC-32's published check value; crc16's and hsieh's were printed by this
// implementation after ring_twemproxy_test found it routing 2000 keys as nutcracker 0.5.0 does
// (it keeps checking all twelve hashes against nutcracker itself).
TEST(KeyHashTest, KnownVectors) {
  struct Vector {
    KeyHash hash;
    const char* key;
    uint32_t value;
  };
  const Vector vectors[] = {
      {KeyHash::kMd5, "", 0xd98c1dd4},
      {KeyHash::kMd5, "memcached", 0x50e729ed},
      {KeyHash::kCrc32, "a", 0x000068b7},
      {KeyHash::kCrc32, "123456789", 0x00004bf4},
      {KeyHash::kCrc32a, "123456789", 0xcbf43926},
      {KeyHash::kCrc16, "123456789", 0x869031c3},  // CRC-16/XMODEM's 0x31c3, plus carries
      {KeyHash::kHsieh, "a", 0x93642e87},
      {KeyHash::kHsieh, "memcached", 0xaf9950e2},
      {KeyHash::kHsieh, "ab\xe9", 0x125794e5},  // the sign-extended last byte
      {KeyHash::kFnv1_64, "a", 0x8601b7be},
      {KeyHash::kFnv1a64, "", 0x84222325},
      {KeyHash::kFnv1a64, "user:42:profile", 0x3716598d},
      {KeyHash::kFnv1_32, "memcached", 0x00cef422},
      {KeyHash::kFnv1a32, "a", 0xe40c292c},
      {KeyHash::kOneAtATime, "a", 0xca2e9442},
      {KeyHash::kJenkins, "", 0xdeadbefc},
      {KeyHash::kJenkins, "user:42:profile", 0xdfad59df},
      {KeyHash::kMurmur, "memcached", 0x6cf01e38},
      {KeyHash::kMurmur, "123456789", 0xb7760690},
  };
  for (const Vector& v : vectors) {
    EXPECT_EQ(v.value, HashKey(v.hash, v.key)) << KeyHashName(v.hash) << "(\"" << v.key << "\")";
  }
}

// twemproxy reads key bytes through a signed char: bytes >= 0x80 are sign-extended (libhashkit
// does the same, which these values come from).
TEST(KeyHashTest, HighBytesAreSignExtendedAsTwemproxyDoes) {
  const std::string key = "\xff\x80 caf\xc3\xa9";
  EXPECT_EQ(0x3c787302u, HashKey(KeyHash::kFnv1_64, key));
  EXPECT_EQ(0x745d70ccu, HashKey(KeyHash::kFnv1a64, key));
  EXPECT_EQ(0xf88a79c2u, HashKey(KeyHash::kFnv1_32, key));
  EXPECT_EQ(0x658facacu, HashKey(KeyHash::kFnv1a32, key));
  EXPECT_EQ(0x7e71f2cdu, HashKey(KeyHash::kOneAtATime, key));
  EXPECT_EQ(0x3c557277u, HashKey(KeyHash::kJenkins, key));
  EXPECT_EQ(0x6f5baaa2u, HashKey(KeyHash::kMurmur, key));
  EXPECT_EQ(0x8eae3555u, HashKey(KeyHash::kMd5, key));
}

TEST(KeyHashTest, NamesRoundTripAndUnknownNamesAreRefused) {
  for (const char* name : {"one_at_a_time", "md5", "crc16", "crc32", "crc32a", "fnv1_64",
                           "fnv1a_64", "fnv1_32", "fnv1a_32", "hsieh", "murmur", "jenkins"}) {
    Result<KeyHash> hash = ParseKeyHash(name);
    ASSERT_TRUE(hash.ok()) << name;
    EXPECT_EQ(name, KeyHashName(*hash));
  }
  Result<KeyHash> bad = ParseKeyHash("sha1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(StatusCode::kInvalidArgument, bad.status().code());
  EXPECT_NE(std::string::npos, bad.status().message().find("unknown hash 'sha1' (one of: "));
  EXPECT_EQ(std::string::npos, bad.status().message().find('\n'));
}

TEST(DistributionTest, RandomIsRefused) {
  EXPECT_EQ(Distribution::kKetama, *ParseDistribution("ketama"));
  EXPECT_EQ(Distribution::kModula, *ParseDistribution("modula"));
  EXPECT_NE(std::string::npos, ParseDistribution("random").status().message().find("random"));
  EXPECT_FALSE(ParseDistribution("Ketama").ok());
}

// twemproxy's expression (nc_ketama.c), transcribed: the epsilon is a double there.
uint32_t TwemproxyPointsPerServer(uint32_t weight, uint32_t total_weight, uint32_t live) {
  const float pct = static_cast<float>(weight) / static_cast<float>(total_weight);
  return static_cast<uint32_t>(std::floor(
             static_cast<float>(pct * 160 / 4 * static_cast<float>(live) + 0.0000000001))) *
         4;
}

TEST(KetamaTest, PointsPerNodeMatchTwemproxyArithmetic) {
  for (uint32_t live = 1; live <= 40; ++live) {
    for (uint32_t total = live; total <= 400; total += 3) {
      for (uint32_t weight = 1; weight <= total - (live - 1); weight += 7) {
        ASSERT_EQ(TwemproxyPointsPerServer(weight, total, live),
                  KetamaPointsPerNode(weight, total, live))
            << weight << "/" << total << " of " << live;
      }
    }
  }
  EXPECT_EQ(160u, KetamaPointsPerNode(1, 3, 3));
  EXPECT_EQ(80u, KetamaPointsPerNode(1, 6, 3));
  EXPECT_EQ(0u, KetamaPointsPerNode(1, 1000, 2));  // too light for a single digest
}

std::map<int, int> PointsByNode(const Ring& ring) {
  std::map<int, int> counts;
  for (const Ring::Point& p : ring.points()) ++counts[p.node];
  return counts;
}

TEST(KetamaTest, PointCountsFollowWeights) {
  const Ring equal = Ring::Build(Distribution::kKetama, KeyHash::kMd5, EqualNodes(3));
  EXPECT_EQ((std::map<int, int>{{0, 160}, {1, 160}, {2, 160}}), PointsByNode(equal));
  std::vector<Node> weighted = EqualNodes(3);
  weighted[1].weight = 2;
  weighted[2].weight = 3;
  const Ring ring = Ring::Build(Distribution::kKetama, KeyHash::kMd5, weighted);
  EXPECT_EQ((std::map<int, int>{{0, 80}, {1, 160}, {2, 240}}), PointsByNode(ring));
  for (size_t i = 1; i < ring.points().size(); ++i) {
    ASSERT_LE(ring.points()[i - 1].value, ring.points()[i].value);
  }
}

TEST(KetamaTest, LookupTakesTheFirstPointAtOrAfterTheHashAndWraps) {
  const Ring ring = Ring::Build(Distribution::kKetama, KeyHash::kMd5, EqualNodes(3));
  const auto& points = ring.points();
  EXPECT_EQ(points.front().node, ring.OwnerOfHash(0));
  EXPECT_EQ(points.front().node, ring.OwnerOfHash(points.back().value + 1));
  EXPECT_EQ(points.front().node, ring.OwnerOfHash(UINT32_MAX));
  EXPECT_EQ(points[10].node, ring.OwnerOfHash(points[10].value));
  EXPECT_EQ(points[11].node, ring.OwnerOfHash(points[10].value + 1));
  EXPECT_EQ(ring.OwnerOfHash(HashKey(KeyHash::kMd5, "k")), ring.Owner("k"));
}

TEST(KetamaTest, OneNodeOwnsEverything) {
  const Ring ring = Ring::Build(Distribution::kKetama, KeyHash::kFnv1a64, EqualNodes(1));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(0, ring.Owner(Key(i)));
}

TEST(RingTest, ReplicasAreDistinctNodesClockwiseFromTheOwner) {
  const Ring ring = Ring::Build(Distribution::kKetama, KeyHash::kMd5, EqualNodes(4));
  for (int i = 0; i < 1000; ++i) {
    int out[8];
    ASSERT_EQ(1, ring.Replicas(Key(i), 1, out));
    EXPECT_EQ(ring.Owner(Key(i)), out[0]);
    ASSERT_EQ(3, ring.Replicas(Key(i), 3, out));
    EXPECT_EQ(ring.Owner(Key(i)), out[0]);
    EXPECT_EQ(3u, std::set<int>(out, out + 3).size());
    ASSERT_EQ(4, ring.Replicas(Key(i), 8, out));  // only four nodes exist
  }
}

// A plain walk over points() from the key's first point, collecting unseen nodes.
std::vector<int> WalkReplicas(const Ring& ring, const std::string& key, int count) {
  const auto& points = ring.points();
  size_t start = 0;
  while (start < points.size() && points[start].value < ring.Hash(key)) ++start;
  std::vector<int> out;
  for (size_t step = 0; step < points.size() && static_cast<int>(out.size()) < count; ++step) {
    const int node = points[(start + step) % points.size()].node;
    if (std::find(out.begin(), out.end(), node) == out.end()) out.push_back(node);
  }
  return out;
}

TEST(RingTest, ReplicasFollowTheRingOrder) {
  std::vector<Node> nodes = EqualNodes(6);
  nodes[2].weight = 4;
  const Ring ring = Ring::Build(Distribution::kKetama, KeyHash::kMd5, nodes);
  for (int i = 0; i < 1000; ++i) {
    int out[3];
    ASSERT_EQ(3, ring.Replicas(Key(i), 3, out));
    ASSERT_EQ(WalkReplicas(ring, Key(i), 3), std::vector<int>(out, out + 3)) << Key(i);
  }
}

TEST(RingTest, DeadNodesOwnNothingAndTheRestIsBuiltOverLiveNodes) {
  std::vector<Node> nodes = EqualNodes(3);
  nodes[0].weight = 2;
  const std::vector<bool> live = {true, false, true};
  const Ring masked = Ring::Build(Distribution::kKetama, KeyHash::kMd5, nodes, &live);
  const Ring without = Ring::Build(Distribution::kKetama, KeyHash::kMd5, {nodes[0], nodes[2]});
  const int index_in_full[] = {0, 2};
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_NE(1, masked.Owner(Key(i)));
    ASSERT_EQ(index_in_full[without.Owner(Key(i))], masked.Owner(Key(i)));
  }
  const std::vector<bool> none(3, false);
  const Ring empty = Ring::Build(Distribution::kKetama, KeyHash::kMd5, nodes, &none);
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(-1, empty.Owner("k"));
  int out[3];
  EXPECT_EQ(0, empty.Replicas("k", 3, out));
}

// twemproxy sorts a pool's servers by name, shorter names first, and gives each one slot per
// unit of weight; a hash picks slot hash % total weight.
TEST(ModulaTest, SlotsFollowTwemproxysNameOrder) {
  const std::vector<Node> nodes = {MakeNode("bb", 11211, 2), MakeNode("c", 11211, 1),
                                   MakeNode("a", 11211, 3)};
  const Ring ring = Ring::Build(Distribution::kModula, KeyHash::kCrc32a, nodes);
  std::vector<int> slots;
  for (const Ring::Point& p : ring.points()) slots.push_back(p.node);
  EXPECT_EQ((std::vector<int>{2, 2, 2, 1, 0, 0}), slots);
  for (uint32_t hash = 0; hash < 12; ++hash) EXPECT_EQ(slots[hash % 6], ring.OwnerOfHash(hash));
  EXPECT_EQ(slots[HashKey(KeyHash::kCrc32a, "k") % 6], ring.Owner("k"));
}

TEST(HashTagTest, OnlyTheTaggedPartIsHashed) {
  EXPECT_EQ("42", HashTagged("user:{42}:name", "{}"));
  EXPECT_EQ("42", HashTagged("{42}", "{}"));
  EXPECT_EQ("user:{}:name", HashTagged("user:{}:name", "{}"));  // empty tag: whole key
  EXPECT_EQ("user:{42", HashTagged("user:{42", "{}"));          // unclosed
  EXPECT_EQ("a", HashTagged("x{a}{b}", "{}"));                  // the first one
  EXPECT_EQ("b:c", HashTagged("a$b:c$d", "$$"));                // same opening and closing
  EXPECT_EQ("user:{42}", HashTagged("user:{42}", ""));
  const Ring ring =
      Ring::Build(Distribution::kKetama, KeyHash::kFnv1a64, EqualNodes(10), nullptr, "{}");
  const int owner = ring.Owner("42");
  for (const char* key : {"user:{42}:name", "user:{42}:mail", "{42}"}) {
    EXPECT_EQ(owner, ring.Owner(key)) << key;
    EXPECT_EQ(HashKey(KeyHash::kFnv1a64, "42"), ring.Hash(key));
  }
}

TEST(RingTest, AnEmptyKeyHashesToZeroAsInTwemproxy) {
  const Ring ring = Ring::Build(Distribution::kKetama, KeyHash::kMd5, EqualNodes(3));
  EXPECT_EQ(0u, ring.Hash(""));
  EXPECT_EQ(ring.OwnerOfHash(0), ring.Owner(""));
}

// Consistent hashing's point: with equal weights, removing one of N nodes moves only the keys
// that node owned (about 1/N), and adding a node moves about 1/(N+1) of the keys, all to it.
// With unequal weights the survivors' point counts change with the total, so a few more move.
constexpr int kMovementKeys = 100'000;

void ExpectRemovalMovesOnlyItsKeys(int n) {
  const std::vector<Node> nodes = EqualNodes(n);
  const int removed = n / 2;
  std::vector<Node> rest = nodes;
  rest.erase(rest.begin() + removed);
  const Ring before = Ring::Build(Distribution::kKetama, KeyHash::kMd5, nodes);
  const Ring after = Ring::Build(Distribution::kKetama, KeyHash::kMd5, rest);
  int moved = 0;
  for (int i = 0; i < kMovementKeys; ++i) {
    const int old_owner = before.Owner(Key(i));
    int new_owner = after.Owner(Key(i));
    new_owner += new_owner >= removed ? 1 : 0;  // back to an index in `nodes`
    if (old_owner == removed) {
      ++moved;
    } else {
      ASSERT_EQ(old_owner, new_owner) << Key(i);
    }
  }
  const double expected = static_cast<double>(kMovementKeys) / n;
  EXPECT_NEAR(expected, moved, 0.3 * expected) << "N=" << n;
}

void ExpectAdditionMovesKeysOnlyToTheNewNode(int n) {
  const std::vector<Node> nodes = EqualNodes(n);
  std::vector<Node> more = nodes;
  more.push_back(MakeNode("10.2.0.1", 11300));
  const Ring before = Ring::Build(Distribution::kKetama, KeyHash::kFnv1a64, nodes);
  const Ring after = Ring::Build(Distribution::kKetama, KeyHash::kFnv1a64, more);
  int moved = 0;
  for (int i = 0; i < kMovementKeys; ++i) {
    const int old_owner = before.Owner(Key(i));
    const int new_owner = after.Owner(Key(i));
    if (old_owner == new_owner) continue;
    ASSERT_EQ(n, new_owner) << Key(i) << " moved between old nodes";
    ++moved;
  }
  const double expected = static_cast<double>(kMovementKeys) / (n + 1);
  EXPECT_NEAR(expected, moved, 0.3 * expected) << "N=" << n;
}

TEST(KeyMovementTest, RemovingOneOfThreeMovesOnlyItsKeys) { ExpectRemovalMovesOnlyItsKeys(3); }
TEST(KeyMovementTest, RemovingOneOfTenMovesOnlyItsKeys) { ExpectRemovalMovesOnlyItsKeys(10); }
TEST(KeyMovementTest, AddingToThreeMovesKeysOnlyToTheNewNode) {
  ExpectAdditionMovesKeysOnlyToTheNewNode(3);
}
TEST(KeyMovementTest, AddingToTenMovesKeysOnlyToTheNewNode) {
  ExpectAdditionMovesKeysOnlyToTheNewNode(10);
}

// Ejecting a node through the live mask is the same as removing it.
TEST(KeyMovementTest, EjectingMovesOnlyTheEjectedNodesKeys) {
  const std::vector<Node> nodes = EqualNodes(5);
  std::vector<bool> live(5, true);
  live[3] = false;
  const Ring before = Ring::Build(Distribution::kKetama, KeyHash::kMd5, nodes);
  const Ring after = Ring::Build(Distribution::kKetama, KeyHash::kMd5, nodes, &live);
  for (int i = 0; i < 20'000; ++i) {
    if (before.Owner(Key(i)) == 3) continue;
    ASSERT_EQ(before.Owner(Key(i)), after.Owner(Key(i))) << Key(i);
  }
}

}  // namespace
}  // namespace warmcache::ring
