// SPDX-License-Identifier: BSD-3-Clause
#include "server/engine/prefix_stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace warmcache::engine {

namespace {

// memcached's prefix table: 256 buckets by MurmurHash3_x86_32 (seed 0) of the prefix. Only the
// dump order depends on it.
constexpr uint32_t kPrefixBuckets = 256;

uint32_t Rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

uint32_t Murmur3(std::string_view data) {
  const uint32_t c1 = 0xcc9e2d51;
  const uint32_t c2 = 0x1b873593;
  uint32_t h = 0;
  const size_t blocks = data.size() / 4;
  for (size_t i = 0; i < blocks; ++i) {
    uint32_t k;
    std::memcpy(&k, data.data() + i * 4, 4);
    k *= c1;
    k = Rotl(k, 15);
    k *= c2;
    h ^= k;
    h = Rotl(h, 13);
    h = h * 5 + 0xe6546b64;
  }
  const auto* tail = reinterpret_cast<const uint8_t*>(data.data() + blocks * 4);
  uint32_t k = 0;
  switch (data.size() & 3) {
    case 3:
      k ^= static_cast<uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k ^= static_cast<uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k ^= tail[0];
      k *= c1;
      k = Rotl(k, 15);
      k *= c2;
      h ^= k;
  }
  h ^= static_cast<uint32_t>(data.size());
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}

}  // namespace

PrefixStats::Counts* PrefixStats::Find(std::string_view key) {
  const size_t end = key.find(delimiter_);
  if (end == std::string_view::npos) return nullptr;
  const std::string_view prefix = key.substr(0, end);
  auto it = prefixes_.find(prefix);
  if (it == prefixes_.end()) {
    it = prefixes_.emplace(std::string(prefix), Counts{.sequence = next_sequence_++}).first;
  }
  return &it->second;
}

void PrefixStats::RecordGet(std::string_view key, bool hit) {
  std::lock_guard lock(mu_);
  if (Counts* c = Find(key)) {
    c->gets++;
    if (hit) c->hits++;
  }
}

void PrefixStats::RecordSet(std::string_view key) {
  std::lock_guard lock(mu_);
  if (Counts* c = Find(key)) c->sets++;
}

void PrefixStats::RecordDelete(std::string_view key) {
  std::lock_guard lock(mu_);
  if (Counts* c = Find(key)) c->deletes++;
}

std::string PrefixStats::Dump() const {
  std::lock_guard lock(mu_);
  struct Entry {
    uint32_t bucket;
    const std::string* prefix;
    const Counts* counts;
  };
  std::vector<Entry> entries;
  for (const auto& [prefix, c] : prefixes_) {
    entries.push_back(Entry{Murmur3(prefix) % kPrefixBuckets, &prefix, &c});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.bucket != b.bucket) return a.bucket < b.bucket;
    return a.counts->sequence > b.counts->sequence;
  });
  std::string out;
  for (const Entry& e : entries) {
    const Counts& c = *e.counts;
    out += fmt::format("PREFIX {} get {} hit {} set {} del {}\r\n", *e.prefix, c.gets, c.hits,
                       c.sets, c.deletes);
  }
  out += "END\r\n";
  return out;
}

void PrefixStats::Clear() {
  std::lock_guard lock(mu_);
  prefixes_.clear();
}

}  // namespace warmcache::engine
