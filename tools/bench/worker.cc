// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/worker.h"

#include <fmt/format.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace warmcache::tools::bench {

namespace {
constexpr int kMaxEvents = 256;
constexpr int kPollMs = 5;             // how late the loop may notice the end of the window
std::atomic<bool> warned_once{false};  // the first connection failure is printed, the rest counted
}  // namespace

Worker::Worker(const WorkerContext& context, uint64_t seed)
    : context_(context),
      source_(context.options, context.chooser, context.schedule, context.shared, seed) {}

Worker::~Worker() {
  connections_.clear();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Status Worker::Open(const sockaddr_in& address, int connections) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return Status::IoError(fmt::format("epoll_create1: {}", std::strerror(errno)));
  const int depth =
      IsOnePass(context_.options->mode) ? context_.options->load_depth : context_.options->depth;
  const ConnectionContext conn_context{context_.codec, context_.schedule, &source_, &stats_, depth};
  for (int i = 0; i < connections; ++i) {
    Result<std::unique_ptr<Connection>> conn = Connection::Open(address, conn_context);
    if (!conn.ok()) return conn.status();
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = connections_.size();
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, (*conn)->fd(), &event) != 0) {
      return Status::IoError(fmt::format("epoll_ctl: {}", std::strerror(errno)));
    }
    connections_.push_back(std::move(conn).value());
    watching_write_.push_back(false);
  }
  return Status::Ok();
}

// Asks for EPOLLOUT only while a connection has unsent bytes.
void Worker::Watch(size_t index) {
  const Connection* conn = connections_[index].get();
  if (conn == nullptr || conn->wants_write() == watching_write_[index]) return;
  watching_write_[index] = conn->wants_write();
  epoll_event event{};
  event.events = EPOLLIN | (conn->wants_write() ? EPOLLOUT : 0u);
  event.data.u64 = index;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, conn->fd(), &event) != 0) {
    CloseConnection(index, Status::IoError("epoll_ctl MOD failed"));
  }
}

void Worker::CloseConnection(size_t index, const Status& why) {
  Connection* conn = connections_[index].get();
  if (conn == nullptr) return;
  ++stats_.failed_connections;
  stats_.unfinished += conn->in_flight();
  if (!warned_once.exchange(true)) {
    fmt::print(stderr, "warmcache-bench: connection closed: {}\n", why.ToString());
  }
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, conn->fd(), nullptr);
  connections_[index].reset();
}

bool Worker::Finished() const {
  for (const auto& conn : connections_) {
    if (conn != nullptr && conn->in_flight() > 0) return false;
  }
  return true;
}

void Worker::Run() {
  const int64_t start = NowNs();
  for (size_t i = 0; i < connections_.size(); ++i) {
    Status status = connections_[i]->Fill(start);
    if (!status.ok()) CloseConnection(i, status);
    Watch(i);
  }
  epoll_event events[kMaxEvents];
  while (!Finished()) {
    if (NowNs() >= context_.schedule->hard_end_ns) {
      for (const auto& conn : connections_) {
        if (conn != nullptr) stats_.unfinished += conn->in_flight();
      }
      return;
    }
    const int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, kPollMs);
    const int64_t now = NowNs();
    for (int i = 0; i < n; ++i) {
      const size_t index = events[i].data.u64;
      Connection* conn = connections_[index].get();
      if (conn == nullptr) continue;
      Status status = (events[i].events & EPOLLOUT) ? conn->OnWritable() : Status::Ok();
      if (status.ok() && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
        status = conn->OnReadable(now);
      }
      if (!status.ok()) CloseConnection(index, status);
      Watch(index);
    }
  }
}

}  // namespace warmcache::tools::bench
