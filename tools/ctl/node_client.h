// SPDX-License-Identifier: BSD-3-Clause
// How warmcachectl talks to a running server over TCP: one request line and its reply line
// (`snapshot`), or pipelined batches of quiet meta commands closed by `mn`.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"

namespace warmcache::ctl {

// Connects to `address` ("host:port"), sends one request line and returns its one reply line
// without CRLF. No timeout: a snapshot may take minutes. kIoError names the address.
Result<std::string> AskServer(const std::string& address, const std::string& request);

// A connection for pipelined batches. Thread safety: none; one thread uses it.
// Errors: kIoError with a one-line message naming the address (cannot resolve or connect,
// closed, no progress within the timeout); after one, the connection is closed for good.
class NodeConnection {
 public:
  static Result<std::unique_ptr<NodeConnection>> Connect(const std::string& address,
                                                         std::chrono::milliseconds timeout);
  ~NodeConnection();
  NodeConnection(const NodeConnection&) = delete;
  NodeConnection& operator=(const NodeConnection&) = delete;

  // Sends `requests` followed by "mn\r\n" and returns every reply line that came before "MN",
  // without CRLF. Sends and reads at the same time, so a batch may be of any size: the server
  // never waits for us to read while we wait for it to read. Only for commands whose replies
  // are lines (quiet ms and md are; mg with a value is not).
  Result<std::vector<std::string>> RoundTrip(std::string_view requests);

  const std::string& address() const { return address_; }
  // The numeric "ip:port" actually connected to: equal for two addresses of the same server
  // ("localhost:11211" and "127.0.0.1:11211").
  const std::string& peer() const { return peer_; }

 private:
  NodeConnection(int fd, std::string address, std::string peer, std::chrono::milliseconds timeout)
      : fd_(fd), address_(std::move(address)), peer_(std::move(peer)), timeout_(timeout) {}
  Status Fail(const std::string& what);

  int fd_;
  const std::string address_;
  const std::string peer_;
  const std::chrono::milliseconds timeout_;  // longest wait without progress
  std::string unread_;                       // received bytes not yet split into lines
};

}  // namespace warmcache::ctl
