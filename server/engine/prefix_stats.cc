// SPDX-License-Identifier: BSD-3-Clause
#include "server/engine/prefix_stats.h"

#include <fmt/format.h>

namespace warmcache::engine {

PrefixStats::Counts* PrefixStats::Find(std::string_view key) {
  const size_t end = key.find(delimiter_);
  if (end == std::string_view::npos) return nullptr;
  const std::string_view prefix = key.substr(0, end);
  auto it = prefixes_.find(prefix);
  if (it == prefixes_.end()) it = prefixes_.emplace(std::string(prefix), Counts{}).first;
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
  std::string out;
  for (const auto& [prefix, c] : prefixes_) {
    out += fmt::format("PREFIX {} get {} hit {} set {} del {}\r\n", prefix, c.gets, c.hits, c.sets,
                       c.deletes);
  }
  out += "END\r\n";
  return out;
}

}  // namespace warmcache::engine
