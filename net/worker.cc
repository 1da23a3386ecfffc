// SPDX-License-Identifier: BSD-3-Clause
#include "net/worker.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>

#include "net/upstream.h"

namespace warmcache::net {

Worker::Worker(int index, const WorkerOptions& options, const WorkerContext& context,
               HandlerFactory factory)
    : index_(index), options_(options), context_(context), factory_(std::move(factory)) {
  uv_idle_init(loop_.uv(), &resume_);
  resume_.data = this;
  uv_timer_init(loop_.uv(), &tick_);
  tick_.data = this;
  uv_check_init(loop_.uv(), &after_poll_);
  after_poll_.data = this;
  loop_.SetStopHook([this] { StopOnLoop(); });
  // Connections waiting on the warm tier must still be resumed while they wind down.
  loop_.DeferMailboxClose();
}

Worker::~Worker() { Join(); }

void Worker::Start() {
  uv_timer_start(&tick_, &Worker::OnTick, 1000, 1000);
  uv_check_start(&after_poll_, &Worker::OnAfterPoll);
  uv_unref(reinterpret_cast<uv_handle_t*>(&after_poll_));
  loop_.Start("wc-worker-" + std::to_string(index_));
}

void Worker::Adopt(int fd, bool is_unix, std::string peer, std::string listen_addr) {
  const bool posted = loop_.Post(
      [this, fd, is_unix, peer = std::move(peer), listen_addr = std::move(listen_addr)]() mutable {
        auto* conn = new Connection(this, fd, is_unix, std::move(peer), std::move(listen_addr));
        connections_.insert(conn);
        if (stopping_ || !conn->Open(factory_(*conn))) conn->Close();
      });
  if (!posted) {
    ::close(fd);
    context_.open_connections->fetch_sub(1, std::memory_order_relaxed);
  }
}

void Worker::Stop() { loop_.Stop(); }

void Worker::StopOnLoop() {
  stopping_ = true;
  stop_deadline_ms_ = static_cast<int64_t>(uv_now(loop_.uv())) + options_.shutdown_grace_ms;
  // Copy: shutting a connection down may close it, which edits the set.
  std::vector<Connection*> open(connections_.begin(), connections_.end());
  for (Connection* conn : open) conn->BeginShutdown();
  CloseHandlesIfDone();
}

void Worker::AddStopHook(std::function<void()> hook) {
  if (handles_closed_) {
    hook();
    return;
  }
  stop_hooks_.push_back(std::move(hook));
}

void Worker::CloseHandlesIfDone() {
  if (!stopping_ || handles_closed_ || !connections_.empty()) return;
  handles_closed_ = true;
  // Swap out: a hook may add another (which then runs at once) or destroy Upstreams.
  std::vector<std::function<void()>> hooks;
  hooks.swap(stop_hooks_);
  for (auto& hook : hooks) hook();
  // Disconnect runs no callback, so the set stays as it is while this walks it.
  for (Upstream* upstream : upstreams_) upstream->Disconnect();
  loop_.CloseMailbox();
  uv_close(reinterpret_cast<uv_handle_t*>(&resume_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&after_poll_), nullptr);
}

void Worker::ScheduleResume(Connection* conn) {
  ready_.push_back(conn);
  uv_idle_start(&resume_, &Worker::OnIdle);
}

void Worker::OnConnectionClosing(Connection* conn) {
  ready_.erase(std::remove(ready_.begin(), ready_.end(), conn), ready_.end());
}

void Worker::OnConnectionClosed(Connection* conn) {
  connections_.erase(conn);
  delete conn;
  context_.open_connections->fetch_sub(1, std::memory_order_relaxed);
  CloseHandlesIfDone();
}

void Worker::OnIdle(uv_idle_t* idle) noexcept {
  auto* worker = static_cast<Worker*>(idle->data);
  std::vector<Connection*> ready;
  ready.swap(worker->ready_);
  for (Connection* conn : ready) {
    if (!conn->closing()) conn->Process();
  }
  if (worker->ready_.empty() && !worker->handles_closed_) uv_idle_stop(&worker->resume_);
}

void Worker::OnAfterPoll(uv_check_t* check) noexcept {
  auto* worker = static_cast<Worker*>(check->data);
  if (worker->context_.after_events) worker->context_.after_events();
  // After each batch of socket events, let another runnable thread on this core go first.
  // With a core per worker this returns at once; when workers share a core (containers with
  // CPU quotas, -t above the core count) it keeps one worker's batch from holding the others'
  // clients for a whole scheduler slice, which is what dominates tail latency there.
  sched_yield();
}

void Worker::OnTick(uv_timer_t* timer) noexcept {
  auto* worker = static_cast<Worker*>(timer->data);
  std::vector<Connection*> to_close;
  if (worker->stopping_) {
    // Clients that never read their replies must not hold shutdown hostage.
    if (static_cast<int64_t>(uv_now(worker->loop_.uv())) >= worker->stop_deadline_ms_) {
      to_close.assign(worker->connections_.begin(), worker->connections_.end());
    }
  } else if (worker->options_.idle_timeout_seconds > 0) {
    const int64_t now = worker->context_.clock->NowSeconds();
    for (Connection* conn : worker->connections_) {
      if (now - conn->last_active() > worker->options_.idle_timeout_seconds) {
        to_close.push_back(conn);
      }
    }
  }
  for (Connection* conn : to_close) conn->Close();
}

}  // namespace warmcache::net
