// SPDX-License-Identifier: BSD-3-Clause
// TestClient: a blocking TCP client for tests, where every wait has a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "server/common/status.h"

namespace warmcache::testutil {

// One connection to 127.0.0.1:port. All reads go through an internal buffer and poll() with
// a timeout (default 5 s), so a silent server fails the test instead of hanging it.
// Errors: kIoError for timeouts, resets and closes; the message quotes (escaped) any bytes
// already buffered, so a mismatch is easy to read. Bytes received but not returned stay
// buffered for the next read. Thread safety: none; not copyable or movable.
class TestClient {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout = std::chrono::seconds(5);

  static Result<std::unique_ptr<TestClient>> Connect(
      uint16_t port, std::chrono::milliseconds timeout = kDefaultTimeout);

  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // Timeout used by every later read/send on this connection.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // Writes all of `bytes` (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
  Status Send(std::string_view bytes);
  // Reads through the next "\r\n" and returns the line WITHOUT it.
  Result<std::string> ReadLine();
  // Like ReadUntil, but leaves the bytes buffered for the next read.
  Result<std::string> PeekUntil(std::string_view terminator);
  // Reads exactly n bytes.
  Result<std::string> ReadBytes(size_t n);
  // Reads through the first occurrence of `terminator` and returns the bytes WITH it.
  Result<std::string> ReadUntil(std::string_view terminator);
  // Returns what is buffered plus whatever arrives during `wait` (never an error; stops
  // early at EOF).
  std::string ReadAvailable(std::chrono::milliseconds wait);
  // OK once the peer closes (EOF or reset) with no further bytes. kIoError if bytes arrive
  // first (quoted in the message) or nothing happens within `wait`.
  Status WaitClosedByPeer(std::chrono::milliseconds wait = kDefaultTimeout);
  // Send(request), then ReadUntil(terminator).
  Result<std::string> Call(std::string_view request, std::string_view terminator = "\r\n");
  // Sends a get/gets/gat/gats request; returns the whole reply through END (or the first line
  // that is not VALUE), reading each VALUE's data by its length, so values may hold any bytes.
  Result<std::string> CallGet(std::string_view request);
  // Sends a meta request; returns its reply line and, after "VA <n>", the n data bytes + CRLF.
  Result<std::string> CallMeta(std::string_view request);

  // True once EOF or a reset was seen.
  bool peer_closed() const { return peer_closed_; }
  // Bytes received but not yet returned by a read.
  const std::string& buffered() const { return buffer_; }

 private:
  explicit TestClient(int fd) : fd_(fd) {}
  // One poll()+recv() into buffer_. kIoError on timeout; sets peer_closed_ on EOF/reset.
  Status FillOnce(std::chrono::steady_clock::time_point until);
  Status ErrorWithBuffer(const std::string& what) const;

  int fd_;
  std::string buffer_;
  bool peer_closed_ = false;
  std::chrono::milliseconds timeout_ = kDefaultTimeout;
};

}  // namespace warmcache::testutil
