// SPDX-License-Identifier: BSD-3-Clause
#include "net/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace warmcache::net {

namespace {

constexpr int kBackoffMs = 50;  // after EMFILE: let connections close before accepting again

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

Result<int> BindTcp(const addrinfo* ai, int backlog) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) return Status::IoError(Errno("socket"));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
    Status status = Status::IoError(Errno("bind"));
    close(fd);
    return status;
  }
  return fd;
}

Result<int> BindUnix(const ListenSpec& spec, int backlog) {
  sockaddr_un addr{};
  if (spec.path.size() >= sizeof(addr.sun_path)) {
    return Status::InvalidArgument("unix socket path too long: " + spec.path);
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IoError(Errno("socket"));
  // A stale socket file from an earlier run would make bind fail; memcached removes it too.
  struct stat st;
  if (lstat(spec.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(spec.path.c_str());
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, spec.path.data(), spec.path.size());
  const mode_t old_umask = umask(~static_cast<mode_t>(spec.unix_mask) & 0777);
  const int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  umask(old_umask);
  if (rc != 0 || listen(fd, backlog) != 0) {
    Status status = Status::IoError(Errno("bind"));
    close(fd);
    return status;
  }
  return fd;
}

}  // namespace

std::string DescribeSocket(int fd, bool is_unix, bool peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  const int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                      : getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (rc != 0) return is_unix ? "unix:" : "tcp:";
  if (ss.ss_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&ss);
    return std::string("unix:") + (len > offsetof(sockaddr_un, sun_path) ? un->sun_path : "");
  }
  char host[INET6_ADDRSTRLEN] = {0};
  int port = 0;
  if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
    return "tcp6:[" + std::string(host) + "]:" + std::to_string(port);
  }
  const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
  inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
  port = ntohs(in->sin_port);
  return "tcp:" + std::string(host) + ":" + std::to_string(port);
}

Result<std::vector<std::unique_ptr<Listener>>> Listener::Open(Loop* loop, const ListenSpec& spec,
                                                              int backlog, AcceptFn on_accept,
                                                              ConnRegistry* registry) {
  std::vector<std::unique_ptr<Listener>> out;
  if (spec.is_unix) {
    Result<int> fd = BindUnix(spec, backlog);
    if (!fd.ok()) return Status::IoError("unix socket " + spec.path + ": " + fd.status().message());
    out.emplace_back(new Listener(loop, *fd, true, on_accept, registry));
    return out;
  }
  addrinfo hints{};
  hints.ai_flags = AI_PASSIVE;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(spec.port < 0 ? 0 : spec.port);
  const char* host = spec.host.empty() ? nullptr : spec.host.c_str();
  const int gai = getaddrinfo(host, port.c_str(), &hints, &res);
  const std::string where = (spec.host.empty() ? "*" : spec.host) + ":" + port;
  if (gai != 0)
    return Status::InvalidArgument("cannot resolve " + where + ": " + gai_strerror(gai));
  Status failure;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    Result<int> fd = BindTcp(ai, backlog);
    if (!fd.ok()) {
      // With no host, an IPv6 socket may be unavailable; any one bound address suffices.
      failure = Status::IoError("failed to listen on TCP " + where + ": " + fd.status().message());
      continue;
    }
    out.emplace_back(new Listener(loop, *fd, false, on_accept, registry));
    out.back()->is_ipv6_ = ai->ai_family == AF_INET6;
  }
  freeaddrinfo(res);
  if (out.empty()) return failure.ok() ? Status::IoError("no address for " + where) : failure;
  return out;
}

Listener::Listener(Loop* loop, int fd, bool is_unix, AcceptFn on_accept, ConnRegistry* registry)
    : loop_(loop),
      fd_(fd),
      is_unix_(is_unix),
      on_accept_(std::move(on_accept)),
      registry_(registry),
      poll_(new uv_poll_t),
      backoff_(new uv_timer_t) {
  info_.fd = fd;
  info_.addr = DescribeSocket(fd, is_unix, /*peer=*/false);
  info_.state.store(ConnState::kListening);
  if (!is_unix) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  registry_->Add(&info_);
  uv_poll_init(loop_->uv(), poll_, fd);
  poll_->data = this;
  uv_timer_init(loop_->uv(), backoff_);
  backoff_->data = this;
  uv_poll_start(poll_, UV_READABLE, &Listener::OnReadable);
}

Listener::~Listener() {
  Close();
  registry_->Remove(&info_);
}

void Listener::Close() {
  if (closed_) return;
  closed_ = true;
  // The socket may only be closed once libuv has let go of the poll handle.
  poll_->data = reinterpret_cast<void*>(static_cast<intptr_t>(fd_));
  uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) {
    close(static_cast<int>(reinterpret_cast<intptr_t>(h->data)));
    delete reinterpret_cast<uv_poll_t*>(h);
  });
  uv_close(reinterpret_cast<uv_handle_t*>(backoff_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

void Listener::OnReadable(uv_poll_t* poll, int status, int) noexcept {
  auto* listener = static_cast<Listener*>(poll->data);
  if (status < 0) {
    spdlog::warn("listener {}: {}", listener->info_.addr, uv_strerror(status));
    return;
  }
  listener->AcceptAll();
}

void Listener::OnBackoffDone(uv_timer_t* timer) noexcept {
  auto* listener = static_cast<Listener*>(timer->data);
  if (!listener->closed_) uv_poll_start(listener->poll_, UV_READABLE, &Listener::OnReadable);
}

void Listener::AcceptAll() {
  while (!closed_) {
    const int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      on_accept_(fd, is_unix_, info_.addr);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (errno == EMFILE || errno == ENFILE) {
      spdlog::warn("too many open files: not accepting for {} ms", kBackoffMs);
      uv_poll_stop(poll_);
      uv_timer_start(backoff_, &Listener::OnBackoffDone, kBackoffMs, 0);
      return;
    }
    spdlog::warn("accept on {}: {}", info_.addr, std::strerror(errno));
    return;
  }
}

}  // namespace warmcache::net
