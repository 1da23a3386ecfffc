// SPDX-License-Identifier: BSD-3-Clause
#include "tools/ctl/node_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace warmcache::ctl {

namespace {

// A blocking socket connected to `address` ("host:port"), or kIoError naming it.
Result<int> ConnectTo(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("bad address " + address + ": want HOST:PORT");
  }
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return Status::IoError("cannot resolve " + address);
  }
  // Each address in turn ("localhost" may name ::1 first and the server listen on 127.0.0.1).
  int fd = -1;
  int error = 0;
  for (const addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0 || connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      error = errno;
      if (fd >= 0) close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return Status::IoError("cannot connect to " + address + ": " + std::strerror(error));
  return fd;
}

// "ip:port" (IPv6: "[ip]:port") of the socket's peer; empty if unknown.
std::string PeerName(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  char host[NI_MAXHOST];
  char port[NI_MAXSERV];
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof(host), port, sizeof(port),
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return {};
  }
  return addr.ss_family == AF_INET6 ? std::string("[") + host + "]:" + port
                                    : std::string(host) + ":" + port;
}

}  // namespace

Result<std::string> AskServer(const std::string& address, const std::string& request) {
  Result<int> fd = ConnectTo(address);
  if (!fd.ok()) return fd.status();
  std::string reply;
  const bool sent = send(*fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                    static_cast<ssize_t>(request.size());
  char buf[4096];
  while (sent && reply.find("\r\n") == std::string::npos) {
    const ssize_t n = recv(*fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  close(*fd);
  const size_t end = reply.find("\r\n");
  if (end == std::string::npos) return Status::IoError(address + " closed without a reply");
  return reply.substr(0, end);
}

Result<std::unique_ptr<NodeConnection>> NodeConnection::Connect(const std::string& address,
                                                                std::chrono::milliseconds timeout) {
  Result<int> fd = ConnectTo(address);
  if (!fd.ok()) return fd.status();
  // Non-blocking, so RoundTrip can read replies while the rest of a batch is still going out.
  fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<NodeConnection>(new NodeConnection(*fd, address, PeerName(*fd), timeout));
}

NodeConnection::~NodeConnection() {
  if (fd_ >= 0) close(fd_);
}

Status NodeConnection::Fail(const std::string& what) {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  return Status::IoError(address_ + ": " + what);
}

Result<std::vector<std::string>> NodeConnection::RoundTrip(std::string_view requests) {
  if (fd_ < 0) return Status::IoError(address_ + ": connection already failed");
  std::string out(requests);
  out += "mn\r\n";
  size_t sent = 0;
  std::vector<std::string> lines;
  using Clock = std::chrono::steady_clock;
  Clock::time_point last_progress = Clock::now();
  char buf[64 * 1024];
  for (;;) {
    pollfd p{fd_, static_cast<short>(POLLIN | (sent < out.size() ? POLLOUT : 0)), 0};
    const int ready = poll(&p, 1, 100);
    if (ready < 0 && errno != EINTR) return Fail(std::string("poll: ") + std::strerror(errno));
    if (ready <= 0) {
      if (Clock::now() - last_progress > timeout_) return Fail("no reply within the timeout");
      continue;
    }
    if ((p.revents & POLLOUT) != 0) {
      const ssize_t n = send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return Fail(std::string("send: ") + std::strerror(errno));
      }
      if (n > 0) sent += static_cast<size_t>(n);
    }
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n == 0) return Fail("closed the connection");
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return Fail(std::string("recv: ") + std::strerror(errno));
      }
      if (n > 0) unread_.append(buf, static_cast<size_t>(n));
    }
    last_progress = Clock::now();
    size_t start = 0;
    for (size_t end; (end = unread_.find("\r\n", start)) != std::string::npos; start = end + 2) {
      std::string line = unread_.substr(start, end - start);
      if (line == "MN") {
        unread_.erase(0, end + 2);
        return lines;
      }
      lines.push_back(std::move(line));
    }
    unread_.erase(0, start);
  }
}

}  // namespace warmcache::ctl
