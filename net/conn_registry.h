// SPDX-License-Identifier: BSD-3-Clause
// Every listening socket and client connection, for `stats conns` and connection counts.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_set>

namespace warmcache::net {

enum class ConnState : uint8_t { kListening, kWaiting, kParseCmd, kRead, kWrite, kClosing };
const char* ConnStateName(ConnState state);

// What `stats conns` shows of one socket. Written by the socket's loop thread only.
struct ConnInfo {
  int fd = -1;
  std::string addr;                       // "tcp:127.0.0.1:4242" / "unix:/path"
  std::string listen_addr;                // empty for listeners
  std::atomic<int64_t> last_cmd_time{0};  // unix seconds
  std::atomic<ConnState> state{ConnState::kWaiting};
};

// Thread safety: all methods may be called from any thread (one mutex; taken only when a
// socket opens or closes and when `stats conns` runs).
class ConnRegistry {
 public:
  void Add(const ConnInfo* info);
  void Remove(const ConnInfo* info);
  void ForEach(const std::function<void(const ConnInfo&)>& fn) const;

 private:
  mutable std::mutex mu_;
  std::unordered_set<const ConnInfo*> infos_;  // guarded by mu_
};

}  // namespace warmcache::net
