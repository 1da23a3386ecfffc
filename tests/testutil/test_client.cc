// SPDX-License-Identifier: BSD-3-Clause
#include "tests/testutil/test_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tests/testutil/escape.h"

namespace warmcache::testutil {

namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point until) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Waits for `events` on fd until `until`; >0 ready, 0 timeout, <0 error.
int PollUntil(int fd, short events, Clock::time_point until) {
  while (true) {
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, RemainingMs(until));
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

}  // namespace

Result<std::unique_ptr<TestClient>> TestClient::Connect(uint16_t port,
                                                        std::chrono::milliseconds timeout) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::IoError(std::string("socket: ") + std::strerror(errno));
  std::unique_ptr<TestClient> client(new TestClient(fd));
  client->timeout_ = timeout;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 && errno != EINPROGRESS) {
    return Status::IoError("connect to port " + std::to_string(port) + ": " + std::strerror(errno));
  }
  if (PollUntil(fd, POLLOUT, Clock::now() + timeout) <= 0) {
    return Status::IoError("connect to port " + std::to_string(port) + " timed out");
  }
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    return Status::IoError("connect to port " + std::to_string(port) + ": " + std::strerror(err));
  }
  return client;
}

TestClient::~TestClient() { close(fd_); }

Status TestClient::Send(std::string_view bytes) {
  auto until = Clock::now() + timeout_;
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (PollUntil(fd_, POLLOUT, until) <= 0) {
        return Status::IoError("send timed out with " + std::to_string(bytes.size()) +
                               " bytes unsent");
      }
      continue;
    }
    return Status::IoError(std::string("send: ") + std::strerror(errno));
  }
  return Status::Ok();
}

Status TestClient::FillOnce(Clock::time_point until) {
  if (peer_closed_) return ErrorWithBuffer("connection closed by peer");
  int r = PollUntil(fd_, POLLIN, until);
  if (r == 0) return ErrorWithBuffer("timed out");
  if (r < 0) return ErrorWithBuffer(std::string("poll: ") + std::strerror(errno));
  char chunk[16384];
  while (true) {
    ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return Status::Ok();
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Status::Ok();
    peer_closed_ = true;  // EOF, or ECONNRESET when the peer closed with unread input
    return ErrorWithBuffer(n == 0 ? "connection closed by peer" : "connection reset by peer");
  }
}

Status TestClient::ErrorWithBuffer(const std::string& what) const {
  return Status::IoError(what + "; received so far: \"" + EscapeBytes(buffer_) + "\"");
}

Result<std::string> TestClient::ReadUntil(std::string_view terminator) {
  auto peeked = PeekUntil(terminator);
  if (peeked.ok()) buffer_.erase(0, peeked->size());
  return peeked;
}

Result<std::string> TestClient::PeekUntil(std::string_view terminator) {
  auto until = Clock::now() + timeout_;
  size_t searched = 0;
  while (true) {
    size_t pos = buffer_.find(terminator, searched);
    if (pos != std::string::npos) {
      return buffer_.substr(0, pos + terminator.size());
    }
    searched = buffer_.size() >= terminator.size() ? buffer_.size() - terminator.size() + 1 : 0;
    WC_RETURN_IF_ERROR(FillOnce(until));
  }
}

Result<std::string> TestClient::ReadLine() {
  auto line = ReadUntil("\r\n");
  if (!line.ok()) return line.status();
  line->resize(line->size() - 2);
  return line;
}

Result<std::string> TestClient::ReadBytes(size_t n) {
  auto until = Clock::now() + timeout_;
  while (buffer_.size() < n) WC_RETURN_IF_ERROR(FillOnce(until));
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

std::string TestClient::ReadAvailable(std::chrono::milliseconds wait) {
  auto until = Clock::now() + wait;
  while (!peer_closed_ && Clock::now() < until) {
    if (!FillOnce(until).ok()) break;
  }
  std::string out;
  out.swap(buffer_);
  return out;
}

Status TestClient::WaitClosedByPeer(std::chrono::milliseconds wait) {
  auto until = Clock::now() + wait;
  while (!peer_closed_) {
    Status s = FillOnce(until);
    if (!buffer_.empty()) return ErrorWithBuffer("expected the peer to close, got bytes");
    if (!s.ok() && !peer_closed_) return s;
  }
  if (!buffer_.empty()) return ErrorWithBuffer("peer closed after sending unread bytes");
  return Status::Ok();
}

Result<std::string> TestClient::Call(std::string_view request, std::string_view terminator) {
  WC_RETURN_IF_ERROR(Send(request));
  return ReadUntil(terminator);
}

Result<std::string> TestClient::CallGet(std::string_view request) {
  WC_RETURN_IF_ERROR(Send(request));
  std::string reply;
  while (true) {
    Result<std::string> line = ReadLine();
    if (!line.ok()) return line.status();
    reply += *line + "\r\n";
    if (line->rfind("VALUE ", 0) != 0) return reply;
    // "VALUE <key> <flags> <bytes>[ <cas>]"
    const size_t len_at = line->find(' ', line->find(' ', 6) + 1) + 1;
    Result<std::string> data = ReadBytes(std::stoul(line->substr(len_at)) + 2);
    if (!data.ok()) return data.status();
    reply += *data;
  }
}

Result<std::string> TestClient::CallMeta(std::string_view request) {
  Result<std::string> reply = Call(request);
  if (!reply.ok() || reply->rfind("VA ", 0) != 0) return reply;
  Result<std::string> data = ReadBytes(std::stoul(reply->substr(3)) + 2);
  if (!data.ok()) return data.status();
  return *reply + *data;
}

}  // namespace warmcache::testutil
