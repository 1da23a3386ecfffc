// SPDX-License-Identifier: BSD-3-Clause
// A loopback TCP server made of plain non-blocking sockets, pumped by the test's own thread
// between turns of a libuv loop: the backend an Upstream talks to, fully under the test's
// control (what it sends, when it closes or resets, whether it accepts at all).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace warmcache::net::testing {

class FakeBackend {
 public:
  struct Peer {
    int fd = -1;
    std::string received;
    bool eof = false;  // the client closed its side
  };

  // Listens on `address` (an IPv4 or IPv6 literal), port chosen by the kernel. With
  // `accept` false it never accepts: with a backlog of 0 the kernel queues one connection and
  // drops the SYNs of the rest, so their connects hang.
  explicit FakeBackend(const char* address = "127.0.0.1", bool accept = true, int backlog = 64)
      : accept_(accept) {
    sockaddr_storage addr{};
    socklen_t len = Fill(address, 0, &addr);
    fd_ = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, backlog) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&addr)->sin_port
                                            : reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  }
  ~FakeBackend() {
    for (Peer& p : peers_) CloseFd(&p.fd);
    CloseFd(&fd_);
  }
  FakeBackend(const FakeBackend&) = delete;
  FakeBackend& operator=(const FakeBackend&) = delete;

  bool ok() const { return fd_ >= 0; }
  uint16_t port() const { return port_; }
  int listen_fd() const { return fd_; }
  size_t accepted() const { return peers_.size(); }
  Peer& peer(size_t i) { return peers_.at(i); }

  // Accepts waiting connections and reads what the clients sent. Never blocks.
  void Pump() {
    while (accept_) {
      const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) break;
      peers_.push_back(Peer{fd, {}, false});
    }
    char buf[64 * 1024];
    for (Peer& p : peers_) {
      while (p.fd >= 0 && !p.eof) {
        const ssize_t n = ::read(p.fd, buf, sizeof(buf));
        if (n > 0) {
          p.received.append(buf, static_cast<size_t>(n));
        } else {
          if (n == 0 || (errno != EAGAIN && errno != EINTR)) p.eof = true;
          if (n < 0 && errno == EINTR) continue;
          break;
        }
      }
    }
  }
  // Small writes only: the socket buffer takes them whole.
  bool Send(size_t i, std::string_view bytes) {
    return ::send(peers_.at(i).fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  void Close(size_t i) { CloseFd(&peers_.at(i).fd); }
  // Closes with an RST instead of a FIN.
  void Reset(size_t i) {
    const linger hard{1, 0};
    ::setsockopt(peers_.at(i).fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    Close(i);
  }
  // The fds Pump() reads, for poll().
  void AddPollFds(std::vector<pollfd>* fds) const {
    fds->push_back({fd_, POLLIN, 0});
    for (const Peer& p : peers_) {
      if (p.fd >= 0 && !p.eof) fds->push_back({p.fd, POLLIN, 0});
    }
  }

  static socklen_t Fill(const char* address, uint16_t port, sockaddr_storage* addr) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(addr);
    if (::inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(port);
      return sizeof(sockaddr_in);
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(addr);
    ::inet_pton(AF_INET6, address, &v6->sin6_addr);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return sizeof(sockaddr_in6);
  }

 private:
  static void CloseFd(int* fd) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }

  const bool accept_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::vector<Peer> peers_;
};

}  // namespace warmcache::net::testing
