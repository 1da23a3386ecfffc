// SPDX-License-Identifier: BSD-3-Clause
#include "net/conn_registry.h"

#include <algorithm>
#include <vector>

namespace warmcache::net {

const char* ConnStateName(ConnState state) {
  switch (state) {
    case ConnState::kListening:
      return "conn_listening";
    case ConnState::kWaiting:
      return "conn_waiting";
    case ConnState::kParseCmd:
      return "conn_parse_cmd";
    case ConnState::kRead:
      return "conn_nread";
    case ConnState::kWrite:
      return "conn_mwrite";
    case ConnState::kClosing:
      return "conn_closing";
  }
  return "conn_unknown";
}

void ConnRegistry::Add(const ConnInfo* info) {
  std::lock_guard lock(mu_);
  infos_.insert(info);
}

void ConnRegistry::Remove(const ConnInfo* info) {
  std::lock_guard lock(mu_);
  infos_.erase(info);
}

void ConnRegistry::ForEach(const std::function<void(const ConnInfo&)>& fn) const {
  std::lock_guard lock(mu_);
  std::vector<const ConnInfo*> sorted(infos_.begin(), infos_.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const ConnInfo* a, const ConnInfo* b) { return a->fd < b->fd; });
  for (const ConnInfo* info : sorted) fn(*info);
}

}  // namespace warmcache::net
