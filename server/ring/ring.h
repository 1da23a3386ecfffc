// SPDX-License-Identifier: BSD-3-Clause
// Consistent hashing over a pool of memcached nodes, byte-compatible with libmemcached
// (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) and twemproxy (`distribution: ketama`): both pick the
// same node for a key as this ring does. See docs/ring.md for the algorithm and its sources.
//
// Thread safety: a built Ring is immutable; share it freely. Building allocates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"

namespace warmcache::ring {

// One backend as a pool file names it (`host:port:weight [name]`).
struct Node {
  std::string host;
  uint16_t port = 11211;
  uint32_t weight = 1;
  std::string name;  // twemproxy's optional node name: hashed instead of host[:port]

  std::string Address() const;  // "host:port", what clients connect to and tools print
  // The string ketama hashes points from: the name if any, else "host" when the port is
  // 11211 and "host:port" otherwise (libmemcached's rule, which twemproxy copies).
  std::string HashIdentity() const;
};

// The key hash functions twemproxy offers (`hash:`); libmemcached's ketama uses kMd5.
enum class KeyHash : uint8_t {
  kMd5,
  kFnv1a64,  // twemproxy's default
  kFnv1_64,
  kFnv1a32,
  kFnv1_32,
  kCrc32a,
  kOneAtATime,
  kMurmur,
  kJenkins,
  kHsieh,
  kCrc16,
  kCrc32,
};
// Parses a twemproxy `hash:` value; kInvalidArgument names the supported ones. All twelve of
// twemproxy 0.5.0's hashes are implemented, bit for bit as twemproxy built for amd64 computes
// them (its `(uint32_t)key[i]` sign-extends bytes >= 0x80 where char is signed; we do too, on
// every platform).
Result<KeyHash> ParseKeyHash(std::string_view name);
std::string_view KeyHashName(KeyHash hash);
uint32_t HashKey(KeyHash hash, std::string_view key);

// twemproxy's `hash_tag`: with a two-character tag such as "{}", a key holding a non-empty
// "{...}" is hashed on the text between the first opening character and the next closing one,
// so "user:{42}:name" and "user:{42}:mail" share a node. Otherwise (no tag, no match, or "{}")
// the whole key is hashed.
std::string_view HashTagged(std::string_view key, std::string_view hash_tag);

enum class Distribution : uint8_t {
  kKetama,  // libmemcached KETAMA_WEIGHTED / twemproxy ketama
  kModula,  // twemproxy modula: hash mod the weighted server list
};
Result<Distribution> ParseDistribution(std::string_view name);  // "random" is refused
std::string_view DistributionName(Distribution d);

class Ring {
 public:
  Ring() = default;
  // `live`, when given, has one entry per node: false leaves that node out (an ejected host),
  // and the points are computed over the live nodes only, as twemproxy does. Indexes returned
  // by the lookups always refer to `nodes`.
  static Ring Build(Distribution distribution, KeyHash hash, const std::vector<Node>& nodes,
                    const std::vector<bool>* live = nullptr);
  // The same, with twemproxy's `hash_tag` applied to every key (see HashTagged).
  static Ring Build(Distribution distribution, KeyHash hash, const std::vector<Node>& nodes,
                    const std::vector<bool>* live, std::string_view hash_tag);

  bool empty() const { return points_.empty(); }
  // The value looked up for `key`: its hash-tagged part hashed, or 0 when that part is empty
  // (twemproxy's rule; memcache keys are never empty).
  uint32_t Hash(std::string_view key) const;
  // The index in `nodes` of the key's owner; -1 when no node is live.
  int Owner(std::string_view key) const { return OwnerOfHash(Hash(key)); }
  int OwnerOfHash(uint32_t hash) const;
  // Fills `out` with up to `count` distinct nodes in ring order starting at the owner (the
  // owner first): the replicas of a key. Returns how many it found (fewer than `count` when
  // fewer nodes have points).
  int Replicas(std::string_view key, int count, int* out) const;

  // Ketama: the continuum sorted by value (ties by node index, as libmemcached sorts). Modula:
  // twemproxy's slot list (value 0), one slot per unit of weight; a hash picks slot hash % size.
  struct Point {
    uint32_t value;
    int node;
  };
  const std::vector<Point>& points() const { return points_; }  // for tests and tools
  Distribution distribution() const { return distribution_; }
  KeyHash key_hash() const { return hash_; }

 private:
  size_t FirstPointIndex(uint32_t hash) const;  // requires !empty()

  Distribution distribution_ = Distribution::kKetama;
  KeyHash hash_ = KeyHash::kMd5;
  std::string hash_tag_;
  std::vector<Point> points_;
  int nodes_with_points_ = 0;
};

// Ketama points for a node of `weight` among live nodes of `total_weight`: libmemcached's
// float arithmetic (hosts.cc update_continuum), which twemproxy's nc_ketama.c reproduces.
// Exposed for tests.
uint32_t KetamaPointsPerNode(uint64_t weight, uint64_t total_weight, uint32_t live_nodes);

}  // namespace warmcache::ring
