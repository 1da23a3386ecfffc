// SPDX-License-Identifier: BSD-3-Clause
// Who waits for a backend's reply: a client's session, or the proxy's own work (the
// invalidation that lets an ejected node back in). A backend holds a handle, and the sink
// clears it when it goes away, so a reply that arrives later is dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

namespace warmcache::proxy {

class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // The whole reply to part `part` of request `seq`.
  virtual void OnReply(uint64_t seq, int part, std::string_view reply) = 0;
  // The part has no reply: its backend failed. `error_line` is the SERVER_ERROR line.
  virtual void OnPartFailed(uint64_t seq, int part, std::string_view error_line) = 0;
};

// Null once the sink is gone.
using SinkHandle = std::shared_ptr<ReplySink*>;

}  // namespace warmcache::proxy
