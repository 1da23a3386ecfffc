// SPDX-License-Identifier: BSD-3-Clause
// A plain blocking client connection for the restart modes (ready, write, check), which need
// exact control over what was sent and acknowledged rather than throughput.
#pragma once

#include <netinet/in.h>

#include <string>
#include <string_view>

#include "server/common/status.h"
#include "tools/bench/reply_parser.h"

namespace warmcache::tools::bench {

// Thread safety: none. Errors: every non-OK Status means the connection is unusable (refused,
// closed by the server, timed out, malformed reply); the caller drops it.
class BlockingClient {
 public:
  // Connects with TCP_NODELAY; reads and writes time out after `timeout_ms`.
  static Result<BlockingClient> Open(const sockaddr_in& address, int timeout_ms);
  BlockingClient(BlockingClient&& other) noexcept;
  BlockingClient& operator=(BlockingClient&&) = delete;
  BlockingClient(const BlockingClient&) = delete;
  ~BlockingClient();

  Status Send(std::string_view bytes);
  // Reads one "\r\n"-terminated line (without the terminator).
  Result<std::string> ReadLine();
  // Reads one whole reply to a get or storage command into `*reply`. The views in it stay valid
  // until the next call.
  Status ReadReply(ExpectedReply expected, Reply* reply);

 private:
  explicit BlockingClient(int fd) : fd_(fd) {}
  Status Receive();  // appends what one recv() returns to in_

  int fd_;
  std::string in_;  // received bytes; in_[in_start_..] not yet consumed
  size_t in_start_ = 0;
};

// "127.0.0.1" and a port as a sockaddr, or kInvalidArgument.
Result<sockaddr_in> MakeAddress(const std::string& host, uint16_t port);

}  // namespace warmcache::tools::bench
