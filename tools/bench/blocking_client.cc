// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/blocking_client.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace warmcache::tools::bench {

namespace {
constexpr size_t kReadChunk = 64 * 1024;

Status Errno(std::string_view what) {
  return Status::IoError(fmt::format("{}: {}", what, std::strerror(errno)));
}
}  // namespace

Result<sockaddr_in> MakeAddress(const std::string& host, uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    return Status::InvalidArgument(fmt::format("--host '{}' is not an IPv4 address", host));
  }
  return address;
}

Result<BlockingClient> BlockingClient::Open(const sockaddr_in& address, int timeout_ms) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  BlockingClient client(fd);
  const timeval timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  const int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) != 0 ||
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    return Errno("setsockopt");
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return Errno("connect");
  }
  return client;
}

BlockingClient::BlockingClient(BlockingClient&& other) noexcept
    : fd_(other.fd_), in_(std::move(other.in_)), in_start_(other.in_start_) {
  other.fd_ = -1;
}

BlockingClient::~BlockingClient() {
  if (fd_ >= 0) ::close(fd_);
}

Status BlockingClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("send");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status BlockingClient::Receive() {
  // Drop what was consumed so the buffer does not grow over a long run.
  in_.erase(0, in_start_);
  in_start_ = 0;
  const size_t old_size = in_.size();
  in_.resize(old_size + kReadChunk);
  ssize_t n;
  do {
    n = ::recv(fd_, in_.data() + old_size, kReadChunk, 0);
  } while (n < 0 && errno == EINTR);
  in_.resize(old_size + static_cast<size_t>(n > 0 ? n : 0));
  if (n == 0) return Status::IoError("server closed the connection");
  if (n < 0) return Errno("recv");
  return Status::Ok();
}

Result<std::string> BlockingClient::ReadLine() {
  for (;;) {
    const size_t end = in_.find("\r\n", in_start_);
    if (end != std::string::npos) {
      std::string line = in_.substr(in_start_, end - in_start_);
      in_start_ = end + 2;
      return line;
    }
    if (in_.size() - in_start_ > kMaxLineBytes) return Status::Corruption("reply line too long");
    WC_RETURN_IF_ERROR(Receive());
  }
}

Status BlockingClient::ReadReply(ExpectedReply expected, Reply* reply) {
  // Consumed bytes stay in the buffer until the next call, so the reply's views remain valid.
  in_.erase(0, in_start_);
  in_start_ = 0;
  for (;;) {
    const ParseStatus status = ParseReply(in_, expected, reply);
    if (status == ParseStatus::kOk) {
      in_start_ = reply->consumed;
      return Status::Ok();
    }
    if (status == ParseStatus::kMalformed) {
      return Status::Corruption(fmt::format("malformed reply: {}", reply->message));
    }
    WC_RETURN_IF_ERROR(Receive());
  }
}

}  // namespace warmcache::tools::bench
