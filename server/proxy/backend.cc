// SPDX-License-Identifier: BSD-3-Clause
#include "server/proxy/backend.h"

#include <spdlog/spdlog.h>

#include <climits>
#include <string>

#include "server/protocol/reply_framer.h"
#include "server/proxy/proxy_worker.h"

namespace warmcache::proxy {

namespace {

constexpr std::string_view kNoop = "mn\r\n";
constexpr std::string_view kNoopReply = "MN\r\n";

}  // namespace

Backend::Backend(ProxyWorker* owner, std::shared_ptr<PoolState> pool, int node, net::Worker* worker)
    : owner_(owner),
      pool_(std::move(pool)),
      node_(node),
      counters_(pool_->counters(node)),
      upstream_(worker, pool_->config().servers[node].host, pool_->config().servers[node].port,
                this) {}

Backend::~Backend() {
  if (dirty_) owner_->ForgetBackend(this);
  upstream_.Disconnect();
}

void Backend::Forward(std::string_view request, Expect expect, const SinkHandle& sink, uint64_t seq,
                      int part) {
  if (!upstream_.connected() && !upstream_.connecting()) {
    counters_.connections.fetch_add(1, std::memory_order_relaxed);
  }
  upstream_.Send(request);
  if (expect == Expect::kUntilNoop) upstream_.Send(kNoop);
  waiting_.push_back(Waiter{sink, seq, part, expect, pool_->clock()->MonotonicMicros()});
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  if (!dirty_) {
    dirty_ = true;
    owner_->NoteBackendDirty(this);
  }
}

void Backend::Flush() {
  dirty_ = false;
  upstream_.Flush();
  const int timeout_ms = pool_->config().timeout_ms;
  if (timeout_ms > 0 && !timer_armed_ && !waiting_.empty()) {
    upstream_.ArmTimeout(timeout_ms);
    timer_armed_ = true;
  }
}

size_t Backend::ReplyLength(std::string_view input, Expect expect, size_t* checked) {
  using protocol::FrameStatus;
  if (expect == Expect::kUntilNoop) {
    // Quiet replies are meta or text lines (and VA data); the noop's MN closes them.
    while (true) {
      const std::string_view rest = input.substr(*checked);
      const protocol::Frame f = protocol::FrameReply(rest, protocol::ReplyShape::kMeta);
      if (f.status == FrameStatus::kNeedMore) return 0;
      if (f.status == FrameStatus::kInvalid) return SIZE_MAX;
      if (rest.substr(0, f.length) == kNoopReply) return *checked + f.length;
      *checked += f.length;
    }
  }
  const protocol::ReplyShape shape = expect == Expect::kLine     ? protocol::ReplyShape::kLine
                                     : expect == Expect::kValues ? protocol::ReplyShape::kValues
                                                                 : protocol::ReplyShape::kMeta;
  const protocol::Frame f = protocol::FrameReply(input, shape, checked);
  if (f.status == FrameStatus::kNeedMore) return 0;
  if (f.status == FrameStatus::kInvalid) return SIZE_MAX;
  return f.length;
}

size_t Backend::OnUpstreamInput(std::string_view input) {
  size_t consumed = 0;
  const int64_t now = pool_->clock()->MonotonicMicros();
  while (consumed < input.size()) {
    if (waiting_.empty()) {
      FailAll("SERVER_ERROR backend sent an unexpected reply\r\n");
      return input.size();
    }
    const Waiter& w = waiting_.front();
    const size_t length = ReplyLength(input.substr(consumed), w.expect, &checked_);
    if (length == 0) break;
    if (length == SIZE_MAX) {
      spdlog::error("backend {}: reply out of step; reconnecting",
                    pool_->config().servers[node_].Address());
      FailAll("SERVER_ERROR backend reply out of step\r\n");
      return input.size();
    }
    std::string_view reply = input.substr(consumed, length);
    if (w.expect == Expect::kUntilNoop) reply.remove_suffix(kNoopReply.size());
    consumed += length;
    checked_ = 0;
    const uint64_t latency = static_cast<uint64_t>(now - w.sent_us);
    counters_.replies.fetch_add(1, std::memory_order_relaxed);
    counters_.latency_us.fetch_add(latency, std::memory_order_relaxed);
    uint64_t max = counters_.latency_max_us.load(std::memory_order_relaxed);
    while (latency > max && !counters_.latency_max_us.compare_exchange_weak(
                                max, latency, std::memory_order_relaxed)) {
    }
    const Waiter done = std::move(waiting_.front());
    waiting_.pop_front();
    if (ReplySink* sink = *done.sink) sink->OnReply(done.seq, done.part, reply);
  }
  if (consumed > 0) pool_->RecordSuccess(node_);
  const int timeout_ms = pool_->config().timeout_ms;
  const bool progress = input.size() != seen_bytes_;
  seen_bytes_ = input.size() - consumed;
  if (timeout_ms > 0 && progress) {
    // The deadline measures silence: any new byte (a long reply arriving) starts it again.
    if (waiting_.empty()) {
      upstream_.DisarmTimeout();
      timer_armed_ = false;
    } else {
      upstream_.ArmTimeout(timeout_ms);
      timer_armed_ = true;
    }
  }
  owner_->FlushSessions();
  return consumed;
}

void Backend::OnUpstreamDown(std::string_view reason) {
  timer_armed_ = false;
  seen_bytes_ = 0;
  checked_ = 0;
  if (waiting_.empty()) return;  // an idle connection closed: nothing was lost
  if (reason == "Connection timed out") {
    counters_.timeouts.fetch_add(waiting_.size(), std::memory_order_relaxed);
  }
  spdlog::debug("backend {}: {}; failing {} requests", pool_->config().servers[node_].Address(),
                reason, waiting_.size());
  std::string line = "SERVER_ERROR ";
  line.append(reason);
  line.append("\r\n");
  pool_->RecordFailure(node_);
  FailAll(line);
}

void Backend::FailAll(std::string_view error_line) {
  upstream_.Disconnect();
  timer_armed_ = false;
  seen_bytes_ = 0;
  checked_ = 0;
  std::deque<Waiter> failed;
  failed.swap(waiting_);
  counters_.errors.fetch_add(failed.size(), std::memory_order_relaxed);
  for (const Waiter& w : failed) {
    if (ReplySink* sink = *w.sink) sink->OnPartFailed(w.seq, w.part, error_line);
  }
  owner_->FlushSessions();
  // This may run in libuv's close phase, after this iteration's after_events: requests the
  // sessions forwarded just now go out at once rather than after the next poll.
  owner_->FlushBackends();
}

}  // namespace warmcache::proxy
