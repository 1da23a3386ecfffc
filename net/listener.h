// SPDX-License-Identifier: BSD-3-Clause
// Listening sockets (TCP and unix) on the acceptor loop. Accepted sockets go to a callback
// that picks a worker; the listener itself never reads a byte.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/conn_registry.h"
#include "net/loop.h"
#include "server/common/status.h"

namespace warmcache::net {

struct ListenSpec {
  bool is_unix = false;
  std::string host;  // TCP: address or name; empty = every interface (IPv4 and IPv6)
  int port = 0;      // TCP: -1 = an ephemeral port
  std::string path;  // unix: socket path
  int unix_mask = 0700;
};

// Returns the listening socket's own address as `stats conns` prints it.
std::string DescribeSocket(int fd, bool is_unix, bool peer);

// Thread safety: confined to the acceptor loop's thread.
class Listener {
 public:
  // Called for each accepted socket (non-blocking, close-on-exec). The callee owns the fd.
  using AcceptFn = std::function<void(int fd, bool is_unix, const std::string& listen_addr)>;

  // Binds every address `spec` resolves to. Errors name the address and the reason.
  static Result<std::vector<std::unique_ptr<Listener>>> Open(Loop* loop, const ListenSpec& spec,
                                                             int backlog, AcceptFn on_accept,
                                                             ConnRegistry* registry);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Stops accepting and closes the socket (asynchronously; the object stays valid).
  void Close();
  int port() const { return port_; }
  bool is_unix() const { return is_unix_; }
  bool is_ipv6() const { return is_ipv6_; }

 private:
  Listener(Loop* loop, int fd, bool is_unix, AcceptFn on_accept, ConnRegistry* registry);
  static void OnReadable(uv_poll_t* poll, int status, int events) noexcept;
  static void OnBackoffDone(uv_timer_t* timer) noexcept;
  void AcceptAll();

  Loop* loop_;  // not owned
  int fd_;
  bool is_unix_;
  bool is_ipv6_ = false;
  int port_ = 0;
  AcceptFn on_accept_;
  ConnRegistry* registry_;  // not owned
  ConnInfo info_;
  // Heap-allocated: libuv touches them after uv_close returns, until their close callbacks.
  uv_poll_t* poll_;
  uv_timer_t* backoff_;
  bool closed_ = false;
};

}  // namespace warmcache::net
