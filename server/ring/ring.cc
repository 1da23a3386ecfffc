// SPDX-License-Identifier: BSD-3-Clause
// Ketama as libmemcached 1.1.4 builds it with MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED
// (src/libmemcached/hosts.cc, update_continuum; lookup in hash.cc, dispatch_host) and as
// twemproxy 0.5.0 builds it (src/hashkit/nc_ketama.c); modula as twemproxy's nc_modula.c.
#include "server/ring/ring.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "server/ring/key_hash_internal.h"

namespace warmcache::ring {

namespace {

constexpr uint32_t kDefaultPort = 11211;  // the port both leave out of the hashed identity
constexpr uint32_t kKetamaPointsPerServer = 160;
constexpr int kPointsPerDigest = 4;

bool IsLive(const std::vector<bool>* live, size_t i) {
  return live == nullptr || (i < live->size() && (*live)[i]);
}

// twemproxy's string_compare(): shorter names first, then bytewise.
bool TwemproxyNameLess(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

void AddKetamaPoints(const Node& node, int index, uint32_t count, std::vector<Ring::Point>* out) {
  const std::string identity = node.HashIdentity();
  // Both number a node's digests from 0 ("host-0", "host-1", ...), each giving 4 points.
  for (uint32_t digest_index = 0; digest_index < count / kPointsPerDigest; ++digest_index) {
    const Md5Digest digest = Md5(identity + "-" + std::to_string(digest_index));
    for (int word = 0; word < kPointsPerDigest; ++word) {
      out->push_back({DigestWord(digest, word), index});
    }
  }
}

std::vector<Ring::Point> KetamaPoints(const std::vector<Node>& nodes,
                                      const std::vector<bool>* live) {
  uint64_t total_weight = 0;
  uint32_t live_nodes = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!IsLive(live, i)) continue;
    ++live_nodes;
    total_weight += nodes[i].weight;
  }
  std::vector<Ring::Point> points;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!IsLive(live, i)) continue;
    AddKetamaPoints(nodes[i], static_cast<int>(i),
                    KetamaPointsPerNode(nodes[i].weight, total_weight, live_nodes), &points);
  }
  // libmemcached breaks ties between equal values by node index; twemproxy's qsort compares
  // values only, and glibc's (merge) sort then keeps insertion order, which is index order too.
  std::sort(points.begin(), points.end(), [](const Ring::Point& a, const Ring::Point& b) {
    return a.value != b.value ? a.value < b.value : a.node < b.node;
  });
  return points;
}

// twemproxy sorts a pool's servers by name (conf_validate_server, to find duplicates) and keeps
// that order; modula's slots follow it, one per unit of weight.
std::vector<Ring::Point> ModulaPoints(const std::vector<Node>& nodes,
                                      const std::vector<bool>* live) {
  std::vector<std::pair<std::string, int>> order;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (IsLive(live, i)) order.emplace_back(nodes[i].HashIdentity(), static_cast<int>(i));
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return TwemproxyNameLess(a.first, b.first);
  });
  std::vector<Ring::Point> points;
  for (const auto& [name, index] : order) {
    points.insert(points.end(), nodes[index].weight, Ring::Point{0, index});
  }
  return points;
}

}  // namespace

std::string Node::Address() const { return host + ":" + std::to_string(port); }

std::string Node::HashIdentity() const {
  if (!name.empty()) return name;
  if (port == kDefaultPort) return host;
  return Address();
}

Result<Distribution> ParseDistribution(std::string_view name) {
  if (name == "ketama") return Distribution::kKetama;
  if (name == "modula") return Distribution::kModula;
  if (name == "random") {
    return Status::InvalidArgument(
        "distribution 'random' is not supported: a cache must find a key where it stored it "
        "(use ketama or modula)");
  }
  return Status::InvalidArgument("unknown distribution '" + std::string(name) +
                                 "' (one of: ketama, modula)");
}

std::string_view DistributionName(Distribution d) {
  return d == Distribution::kKetama ? "ketama" : "modula";
}

uint32_t KetamaPointsPerNode(uint64_t weight, uint64_t total_weight, uint32_t live_nodes) {
  // Kept in float, in libmemcached's order of operations: pct * 160 / 4 * live + 1e-10F.
  // twemproxy adds the 1e-10 as a double before converting back to float; the epsilon cannot
  // move a float across an integer either way, so floor() agrees (ring_test checks a grid).
  const float pct = static_cast<float>(weight) / static_cast<float>(total_weight);
  const float quarter_points =
      pct * static_cast<float>(kKetamaPointsPerServer) / 4.0f * static_cast<float>(live_nodes) +
      0.0000000001F;
  return static_cast<uint32_t>(std::floor(quarter_points)) * kPointsPerDigest;
}

Ring Ring::Build(Distribution distribution, KeyHash hash, const std::vector<Node>& nodes,
                 const std::vector<bool>* live) {
  return Build(distribution, hash, nodes, live, {});
}

Ring Ring::Build(Distribution distribution, KeyHash hash, const std::vector<Node>& nodes,
                 const std::vector<bool>* live, std::string_view hash_tag) {
  Ring ring;
  ring.distribution_ = distribution;
  ring.hash_ = hash;
  ring.hash_tag_ = std::string(hash_tag);
  ring.points_ =
      distribution == Distribution::kKetama ? KetamaPoints(nodes, live) : ModulaPoints(nodes, live);
  std::vector<bool> has_points(nodes.size(), false);
  for (const Point& p : ring.points_) has_points[p.node] = true;
  ring.nodes_with_points_ =
      static_cast<int>(std::count(has_points.begin(), has_points.end(), true));
  return ring;
}

uint32_t Ring::Hash(std::string_view key) const {
  const std::string_view hashed = HashTagged(key, hash_tag_);
  return hashed.empty() ? 0 : HashKey(hash_, hashed);
}

size_t Ring::FirstPointIndex(uint32_t hash) const {
  if (distribution_ == Distribution::kModula) return hash % points_.size();
  // The first point at or after the hash, wrapping past the largest to the first.
  auto it = std::lower_bound(points_.begin(), points_.end(), hash,
                             [](const Point& p, uint32_t h) { return p.value < h; });
  return it == points_.end() ? 0 : static_cast<size_t>(it - points_.begin());
}

int Ring::OwnerOfHash(uint32_t hash) const {
  if (points_.empty()) return -1;
  return points_[FirstPointIndex(hash)].node;
}

int Ring::Replicas(std::string_view key, int count, int* out) const {
  if (points_.empty() || count <= 0) return 0;
  const size_t start = FirstPointIndex(Hash(key));
  const int wanted = std::min(count, nodes_with_points_);
  int found = 0;
  for (size_t step = 0; step < points_.size() && found < wanted; ++step) {
    const int node = points_[(start + step) % points_.size()].node;
    if (std::find(out, out + found, node) == out + found) out[found++] = node;
  }
  return found;
}

}  // namespace warmcache::ring
